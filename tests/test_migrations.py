"""Schema management: the migrations build exactly the schema the models describe, on the chosen
backend; an empty database is set up automatically; `gridbot db upgrade` is idempotent."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from bot.cli import main
from bot.storage.db import alembic_config, current_revision, head_revision, make_engine


def test_migrations_from_scratch_match_the_models(new_db):
    engine = make_engine(new_db("scratch"), migrate=False)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_empty_database_is_set_up_on_first_use(new_db):
    engine = make_engine(new_db("auto"))
    assert current_revision(engine) == head_revision()


def test_db_upgrade_verb(new_db, capsys):
    url = new_db("verb")
    assert main(["db", "upgrade", "--db", url]) == 0
    assert main(["db", "upgrade", "--db", url]) == 0
    out = capsys.readouterr().out
    assert out.count(head_revision()) == 2


def test_doctor_reports_in_plain_words(new_db, capsys, tmp_path):
    from tests.harness import ORG_SMALL

    url = new_db("doc")
    if url.startswith("sqlite"):
        # doctor never creates the database it is asked about
        assert main(["doctor", "--db", url]) == 1
        assert "不存在" in capsys.readouterr().out and not (tmp_path / "doc.db").exists()
        with make_engine(url, migrate=False).connect():
            pass                                             # an empty file, as a failed setup leaves
    assert main(["doctor", "--db", url]) == 1
    assert "还没有建表" in capsys.readouterr().out
    assert main(["org", "import", str(ORG_SMALL), "--db", url]) == 0
    capsys.readouterr()
    assert main(["doctor", "--db", url, "--org", str(ORG_SMALL)]) == 0
    out = capsys.readouterr().out
    assert "✓ 数据库可以连接" in out and "组织架构已导入：遂川县" in out and "一切正常" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("county: x\nnodes: 3\n", encoding="utf-8")
    assert main(["doctor", "--db", url, "--org", str(bad)]) == 1
    assert "✗ 组织架构文件有错" in capsys.readouterr().out
    assert main(["doctor", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"]) == 1
    assert "连不上数据库" in capsys.readouterr().out


def test_unreachable_or_malformed_database_gives_a_clear_error(capsys):
    assert main(["tickets", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "--json"]) == 2
    assert "错误：连不上数据库" in capsys.readouterr().err
    assert main(["tickets", "--db", "not a url", "--json"]) == 2
    assert "错误：数据库地址格式不对" in capsys.readouterr().err
