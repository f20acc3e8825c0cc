"""Run settings: defaults, then the config file (YAML), then command-line flags."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path

import yaml

from bot.storage.db import DEFAULT_URL

BUNDLED_ORG = Path(__file__).with_name("data") / "sample_county.yaml"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    db: str = DEFAULT_URL
    org: str | None = None
    transport: str = "console"
    cache_dir: str = field(default_factory=lambda: os.environ.get(
        "GRIDBOT_CACHE_DIR", str(Path.home() / ".cache" / "gridbot")))
    lexicon: tuple[str, ...] = ()     # extra lexicon files or folders a county adds
    send_interval: float = 1.5        # seconds between two messages of one bot account (WeChat flags bursts)
    export_dir: str = "exports"       # where #导出 writes Excel files
    account: str = "default"          # this process's bot account (pacing, and rooms it sits in)
    # wechaty transport (README "Connecting to WeChat"); token and endpoint default to the environment
    wechaty_token: str | None = field(default_factory=lambda: os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN"))
    wechaty_endpoint: str | None = field(default_factory=lambda: os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT"))
    wechaty_port: int | None = None     # the SDK's plugin web-server port; None: a free one
    # wecom transport (README "Connecting to WeCom"); bot id and secret default to the environment
    wecom_bot_id: str | None = field(default_factory=lambda: os.environ.get("WECOM_BOT_ID"))
    wecom_secret: str | None = field(default_factory=lambda: os.environ.get("WECOM_BOT_SECRET"))
    wecom_ws_url: str = "wss://openws.work.weixin.qq.com"
    login_timeout: float = 60.0         # seconds to log in at start before giving up
    attachments_dir: str = ".gridbot/attachments"   # images and files received
    start_at: datetime | None = None    # live runs: the clock starts here and runs on (rehearsals, tests)

    @classmethod
    def load(cls, path: str | None) -> "Config":
        if path is None:
            return cls()
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise ConfigError(f"读不了配置文件 {path}：{err}") from err
        if not isinstance(raw, dict):
            raise ConfigError(f"配置文件 {path} 顶层必须是键值对")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"配置文件 {path} 有未知的设置：{', '.join(unknown)}（可用：{', '.join(sorted(known))}）")
        if "lexicon" in raw:
            raw["lexicon"] = tuple(raw["lexicon"] or ())
        return cls(**{k: v for k, v in raw.items() if v is not None})

    def override(self, **flags) -> "Config":
        return replace(self, **{k: v for k, v in flags.items() if v is not None})
