// A mock county on a real Wechaty puppet gRPC server (wechaty-puppet-service + wechaty-puppet-mock),
// for the end-to-end tests: the groups of tests/data/org_small.yaml (some of them), their members, and
// a bot account that logs in whenever the puppet starts.
//
//   node mock_county.mjs GRPC_PORT CONTROL_PORT TOKEN SENT_LOG
//   (WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true: the Python SDK speaks plain h2c)
//
// Control channel, HTTP on 127.0.0.1:CONTROL_PORT, JSON in and out:
//   GET  /health                                   -> {ok, loggedIn}
//   POST /say     {from, room|null, text, mentions?} -> {id}   (room: a room id; null: 1:1 to the bot)
//   POST /image   {from, room|null, name?}          -> {id}
//   POST /file    {from, room|null, name, content}  -> {id}
//   POST /record  {from, room|null, xml}            -> {id}   (a forwarded chat record, ChatHistory type)
// Everything the bot sends is appended to SENT_LOG as one JSON line:
//   {seq, id, kind: text|file, room: id|null, topic, to: id|null, text, mentions, name}
// The log is a file so that it survives the server being killed and restarted by a test.
import fs from 'fs'
import http from 'http'
import { FileBox } from 'file-box'
import * as PUPPET from 'wechaty-puppet'
import { PuppetMock, mock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

const [GRPC_PORT, CONTROL_PORT, TOKEN, SENT_LOG] = process.argv.slice(2)
if (!SENT_LOG) {
  console.error('usage: node mock_county.mjs GRPC_PORT CONTROL_PORT TOKEN SENT_LOG')
  process.exit(2)
}
const log = (...a) => console.error('[mock-county]', ...a)

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
const BOT = { id: 'wxid_gridbot', name: '网格助手' }
const PEOPLE = [
  ['wxid_chen_zr', '指挥中心陈主任'], ['wxid_qj_shuji', '党工委刘书记'], ['wxid_cn_zhuren', '城南社区胡主任'],
  ['wxid_liufang', '网格员刘芳'], ['wxid_zhoujq', '网格快警周警官'], ['wxid_zhao_zz', '楼栋长赵志忠'],
  ['wxid_wangjg', '王建国'], ['wxid_res_zhang', '张大妈'], ['wxid_power_he', '供电-何师傅'],
  ['wxid_cg_liaison', '城管-黄队'], ['wxid_water_li', '供水-李工'], ['wxid_xf_liaison', '消防-值班室'],
]
// Groups the bot is in. The org's other groups (e.g. 城南社区第4网格群) are missing on purpose, and
// one group is not in the org at all (for #绑定).
const ROOMS = [
  ['r_county@chatroom', '遂川县红网格指挥中心', ['wxid_chen_zr']],
  ['r_town@chatroom', '泉江城市社区党工委工作群', ['wxid_qj_shuji']],
  ['r_cn@chatroom', '城南社区党组织工作群', ['wxid_cn_zhuren']],
  ['r_grid3@chatroom', '城南社区第3网格群', ['wxid_liufang', 'wxid_zhoujq', 'wxid_res_zhang']],
  ['r_b5@chatroom', '幸福小区5栋楼栋群', ['wxid_zhao_zz', 'wxid_wangjg', 'wxid_res_zhang']],
  ['r_hh_wang@chatroom', '5栋王建国中心户邻里群', ['wxid_wangjg', 'wxid_res_zhang']],
  ['r_power@chatroom', '县供电公司工单群', ['wxid_power_he']],
  ['r_cg@chatroom', '县城管局红网格工单群', ['wxid_cg_liaison']],
  ['r_water@chatroom', '县自来水公司工单群', ['wxid_water_li']],
  ['r_fire@chatroom', '县消防救援大队工单群', ['wxid_xf_liaison']],
  ['r_new@chatroom', '幸福小区6栋新群', ['wxid_cn_zhuren', 'wxid_liufang', 'wxid_res_zhang']],
]

const mocker = new mock.Mocker()
const bot = mocker.createContact({ id: BOT.id, name: BOT.name })
const people = new Map(PEOPLE.map(([id, name]) => [id, mocker.createContact({ id, name })]))
const rooms = new Map(ROOMS.map(([id, topic, members]) => [id, mocker.createRoom({
  id, topic, memberIdList: [BOT.id, ...members], ownerId: members[0], adminIdList: [],
})]))

// The Python SDK calls Stop() then Start() on every connect, which logs the mock account out:
// log it in again each time the mocker starts.
mocker.use(m => {
  setTimeout(() => { if (!m.puppet.isLoggedIn) m.login(bot) }, 50)
})

let seq = 0
function record (entry) {
  fs.appendFileSync(SENT_LOG, JSON.stringify({ seq: ++seq, ...entry }) + '\n')
}

// Stock PuppetMock returns no id from messageSend*, and the SDK needs one; also record every send.
class CountyPuppet extends PuppetMock {
  _send (conversationId, something, mentionIdList = []) {
    if (!this.isLoggedIn) throw new Error('not logged in')
    const isRoom = rooms.has(conversationId)
    const conversation = isRoom ? this.mocker.RoomMock.load(conversationId) : this.mocker.ContactMock.load(conversationId)
    const user = this.mocker.ContactMock.load(this.currentUserId)
    let id
    const grab = p => { id = p.messageId }
    this.on('message', grab)          // ContactMock.say().to() emits 'message' synchronously
    try {
      user.say(something, mentionIdList.map(i => this.mocker.ContactMock.load(i))).to(conversation)
    } finally { this.off('message', grab) }
    const file = typeof something !== 'string'
    record({
      id, kind: file ? 'file' : 'text', room: isRoom ? conversationId : null,
      topic: isRoom ? rooms.get(conversationId).payload.topic : null, to: isRoom ? null : conversationId,
      text: file ? '' : something, mentions: mentionIdList, name: file ? something.name : null,
    })
    return id
  }

  async messageSendText (conversationId, text, mentionIdList) { return this._send(conversationId, text, mentionIdList || []) }
  async messageSendFile (conversationId, file) { return this._send(conversationId, file) }
  // Stock PuppetMock answers every image with a QR code; give back the picture that was sent.
  async messageImage (messageId) { return this.messageFile(messageId) }
}

const puppet = new CountyPuppet({ mocker })
const server = new PuppetServer({ puppet, token: TOKEN, endpoint: `127.0.0.1:${GRPC_PORT}` })
await server.start()

function speaker (id) {
  const c = people.get(id)
  if (!c) throw new Error(`unknown contact ${id}`)
  return c
}
function conversation (room) {
  if (room == null) return bot
  const r = rooms.get(room)
  if (!r) throw new Error(`unknown room ${room}`)
  return r
}
function said (from, something, room, mentions = []) {
  let id
  const grab = p => { id = p.messageId }
  puppet.on('message', grab)
  try {
    speaker(from).say(something, mentions.map(i => mocker.ContactMock.load(i))).to(conversation(room))
  } finally { puppet.off('message', grab) }
  return id
}

const actions = {
  say: b => said(b.from, b.text, b.room, b.mentions || []),
  image: b => said(b.from, FileBox.fromBase64(PNG, b.name || 'photo.png'), b.room),
  file: b => {
    const box = FileBox.fromBase64(Buffer.from(b.content || '').toString('base64'), b.name)
    box._mediaType = 'application/octet-stream'   // PuppetMock maps .txt/.doc/.pdf to Attachment only then
    return said(b.from, box, b.room)
  },
  record: b => {
    // ContactMock.say() only makes text and files; build the chat-record message by hand.
    const payload = {
      id: `rec-${Date.now()}-${Math.random().toString(36).slice(2)}`, talkerId: speaker(b.from).id,
      timestamp: Date.now(), type: PUPPET.types.Message.ChatHistory, text: b.xml || '',
      ...(b.room ? { roomId: b.room, mentionIdList: [] } : { listenerId: bot.id }),
    }
    mocker.MessageMock.create(payload)
    puppet.emit('message', { messageId: payload.id })
    return payload.id
  },
}

const control = http.createServer((req, res) => {
  let body = ''
  req.on('data', chunk => { body += chunk })
  req.on('end', () => {
    const reply = (code, data) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(data)) }
    try {
      const name = req.url.replace(/^\//, '')
      if (req.method === 'GET' && name === 'health') return reply(200, { ok: true, loggedIn: puppet.isLoggedIn })
      const action = actions[name]
      if (req.method !== 'POST' || !action) return reply(404, { error: `no ${req.method} ${req.url}` })
      return reply(200, { id: action(JSON.parse(body || '{}')) })
    } catch (e) {
      log('control error', e)
      return reply(400, { error: String(e && e.message || e) })
    }
  })
})
control.listen(Number(CONTROL_PORT), '127.0.0.1', () => log(`ready grpc=${GRPC_PORT} control=${CONTROL_PORT}`))

const quit = async () => {
  control.close()
  await server.stop().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', quit)
process.on('SIGINT', quit)
