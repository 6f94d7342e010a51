package store

import "github.com/redis/go-redis/v9"

// Lua scripts. KEYS name the keys a script is handed; the scripts derive the
// membership keys (m:, of:, r: of members, gname) from ARGV[1], the prefix
// including the {scim} hash tag, so every key is in the same Cluster slot.

// luaDropIndexEntries defines dropIndexEntries(res, id), shared by the write
// and delete scripts: it removes the index entries recorded in the
// resource's "ix" and "ix2" fields (unique hash entries only while they
// still point at id). KEYS[e[1]] is the index key of entry e.
//
// "ix2" holds the entries of indexes added after the first key layout
// (index.added): versions before them read only "ix", whose entries name
// KEYS positions they also have, so while old and new gateways run side by
// side (a rolling upgrade) neither touches a key of the wrong type. "ix3"
// holds the entries of the backfilled indexes (index.backfill) likewise.
const luaDropIndexEntries = `
local function dropIndexEntries(res, id)
  for _, field in ipairs({'ix', 'ix2', 'ix3'}) do
    local old = redis.call('HGET', res, field)
    if old then
      for _, e in ipairs(cjson.decode(old)) do
        if e[3] == 1 then
          if redis.call('HGET', KEYS[e[1]], e[2]) == id then redis.call('HDEL', KEYS[e[1]], e[2]) end
        else
          redis.call('ZREM', KEYS[e[1]], e[2] .. '\0' .. id)
        end
      end
    end
  end
end
`

// luaWriteGuard defines writeGuard(p, token, deadline), run first by the
// write and delete scripts. It makes them safe to send again and never late:
//
//   - token (ARGV, "" = none) names this write; a script that ran to the
//     end stored its reply under p..'w:'..token for a while, so when the
//     client library sends the same write again after a lost reply, the
//     stored reply is returned and nothing is applied twice.
//   - deadline (unix ms, "0" = none) is the caller's deadline: a script
//     that starts after it (Redis stalled, then resumed, while the caller
//     already answered 503) changes nothing and answers DEADLINE.
//
// It returns the stored reply (a string: the write script's head as
// "<version> <changed> <audit id>", the delete script's audit id), or nil
// and an error reply code, or nil, nil.
const luaWriteGuard = `
local function writeGuard(p, token, deadline)
  if token ~= '' then
    local done = redis.call('GET', p .. 'w:' .. token)
    if done then return done, nil end
  end
  if deadline ~= '0' then
    local t = redis.call('TIME')
    if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(deadline) then
      return nil, 'DEADLINE'
    end
  end
  return nil, nil
end
local function writeDone(p, token, reply)
  if token ~= '' then redis.call('SET', p .. 'w:' .. token, reply, 'PX', 120000) end
  return reply
end
`

// luaWriteReply defines writeReply(p, res, id, head, members, groups,
// known, nodoc): the write script's reply, head (version, changed, audit
// id) followed by the resource as readOne returns it, so a write needs no
// second read. known, when not nil, is what HMGET of the resource's fields
// would return (a creation knows them all), saving that call; nodoc
// leaves the document out (the caller sent it).
const luaWriteReply = luaReadOne + `
local function writeReply(p, res, id, head, members, groups, known, nodoc)
  return {head[1], head[2], head[3], readOne(p, res, id, members, groups, known, nodoc)}
end
`

// writeScript creates or updates one resource.
//
//	KEYS[1] r:<id>   KEYS[2] all:<Type>   KEYS[3..] index keys of the type
//	ARGV[1] key prefix  ARGV[2] id  ARGV[3] type  ARGV[4] "create"|"update"
//	ARGV[5] expected version ("0" = any)  ARGV[6] now (RFC 3339)
//	ARGV[12] expected attribute version ("0" = any): counts attribute
//	         changes only, so an optimistic attribute rewrite does not
//	         conflict with concurrent member changes
//	ARGV[7] attributes JSON, compact or not (see compactDoc; "" = unchanged)
//	ARGV[8] the "ix" field: JSON [[keyIndex, value, unique(0|1)], ...] of the
//	        first key layout's indexes ("" = indexes unchanged)
//	ARGV[17] the "ix2" field, the same for indexes added later ("" = none)
//	ARGV[23] the "ix3" field, the same for the backfilled indexes ("" = none)
//	ARGV[25] the ready fields ("<Type>:<attr>", comma-separated) of the
//	        type's optional indexes that are disabled: a write of attributes
//	        leaves the resource without their entries, so it clears their
//	        markers in P{tag}:ixready (enabling them later backfills)
//	ARGV[26] compact resources: now as unix nanoseconds, the form "c" and
//	        "m" are stored in, a creation storing no "m" (lastModified is
//	        then "c"); "" = off, both stored as ARGV[6] (see
//	        Redis.CompactResources)
//	ARGV[27] "1"|"0": where a write of attributes stores the document, in
//	        its own key d:<id> as "<dv> <JSON>" ("1", see Redis.DocumentKeys)
//	        or in the hash's "doc" field ("0"); it drops the other place.
//	        Either is read (see luaReadOne).
//	ARGV[28..] the audit records' fields (see ARGV[11]), then the new index
//	        entries, four ARGV each: keyIndex, value, unique "1"|"0",
//	        attribute name (for UNIQUENESS)
//	ARGV[9] member change JSON {"replace":b,"add":[[id,display]],"remove":[id],"present":[id]} ("" = none)
//	ARGV[10] group displayName ("" = unchanged)
//	ARGV[11] journal: the streams' approximate MAXLEN ("" = no journal);
//	         KEYS[#KEYS-1] is the audit stream, KEYS[#KEYS] the change-event
//	         stream. Records are appended only when something changed, in
//	         the same atomic step as the change. The audit record is built
//	         by the caller as stream entry fields (audit.AppendFields), one
//	         per outcome, each a run of ARGV from ARGV[28] on: attributes
//	         changed (or nothing visible; ARGV[19] of them), attributes and
//	         members changed (ARGV[20]), members only (ARGV[21]). ARGV[18]
//	         is the change-event type of an attribute change ("" = none),
//	         ARGV[22] its "changed" field (the changed attribute names,
//	         comma-separated; "" for creations).
//	         Change events carry the new version, not the document: a
//	         consumer reads the resource (the webhook worker does).
//	ARGV[13] write token ("" = none; a creation stores none, see
//	         createResent)  ARGV[14] deadline, unix ms ("0" = none):
//	         see writeGuard
//	ARGV[15] reply with members "1"|"0"  ARGV[16] reply with groups "1"|"0"
//	ARGV[24] creating a User: the most Users KEYS[2] may hold ("0" = no cap),
//	         checked here so concurrent creations cannot pass it (QUOTA)
//
// createResent: a creation stores no write token, which would cost each
// one a key with an expiry. Its id is new (the gateway's own random
// UUIDv7), so finding the resource there means an earlier send of this
// same write was applied and its reply lost: it is answered as applied,
// with the resource as it is now and the audit entry of the applied send
// when it is among the stream's last 200 (resentAuditID; else ""). A resource
// deleted again before the resend left a tombstone (deleteScript keeps
// gone:<id> as long as a write token), and the creation answers GONE
// instead of bringing it back.
//
// Returns {version, changed(0|1), audit entry id or "", resource as readScript
// returns it, with an empty document when a creation stored ARGV[7]} or an error reply: NOTFOUND, GONE, VERSION, UNIQUENESS <attr>,
// NOMEMBER <id>, NOTARGET <id>, DEADLINE, QUOTA.
var writeScript = redis.NewScript(luaDropIndexEntries + luaWriteGuard + luaWriteReply + luaDocAliases + `
-- resentAuditID is the audit entry of the applied send of a resent
-- creation (createResent): the entry among the audit stream's last
-- 200 whose request id and target id are this write's ('' if none),
-- taken from its audit records (all three share them; a creation with
-- members has only the second).
local function resentAuditID()
  if ARGV[11] == '' then return '' end
  local want = {}
  for i = 28, 27 + tonumber(ARGV[19]) + tonumber(ARGV[20]) + tonumber(ARGV[21]), 2 do
    if ARGV[i] == 'rq' or ARGV[i] == 'ti' then want[ARGV[i]] = ARGV[i + 1] end
  end
  if not want.rq or not want.ti then return '' end
  for _, e in ipairs(redis.call('XREVRANGE', KEYS[#KEYS - 1], '+', '-', 'COUNT', 200)) do
    local f, got = e[2], {}
    for i = 1, #f, 2 do
      if f[i] == 'rq' or f[i] == 'ti' then got[f[i]] = f[i + 1] end
    end
    if got.rq == want.rq and got.ti == want.ti then return e[1] end
  end
  return ''
end
local p, id, typ, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local res = KEYS[1]
local stamp = ARGV[26] or ''
-- A creation stores no write token (see createResent): only updates do.
local token = ARGV[13]
if mode == 'create' then
  token = ''
  if redis.call('EXISTS', res) == 1 then
    return writeReply(p, res, id, {tonumber(redis.call('HGET', res, 'v')), 1, resentAuditID()}, ARGV[15], ARGV[16])
  end
  if redis.call('EXISTS', p .. 'gone:' .. id) == 1 then return redis.error_reply('GONE') end
end
local done, gerr = writeGuard(p, token, ARGV[14])
if gerr then return redis.error_reply(gerr) end
if done then
  local dv, dch, daid = string.match(done, '^(%d+) (%d) (.*)$')
  return writeReply(p, res, id, {tonumber(dv), tonumber(dch), daid}, ARGV[15], ARGV[16])
end
if mode == 'create' then
  if typ == 'User' and ARGV[24] ~= '0' and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[24]) then
    return redis.error_reply('QUOTA')
  end
else
  local cur = redis.call('HMGET', res, 't', 'v', 'dv')
  if cur[1] ~= typ then return redis.error_reply('NOTFOUND') end
  if ARGV[5] ~= '0' and cur[2] ~= ARGV[5] then
    return redis.error_reply('VERSION')
  end
  if ARGV[12] ~= '0' and (cur[3] or '1') ~= ARGV[12] then
    return redis.error_reply('VERSION')
  end
end

-- the audit records' field lists, then the index entries
local nAudit = {tonumber(ARGV[19] or '0'), tonumber(ARGV[20] or '0'), tonumber(ARGV[21] or '0')}
local auditFrom = {28, 28 + nAudit[1], 28 + nAudit[1] + nAudit[2]}
local ixFrom = auditFrom[3] + nAudit[3]
if ARGV[8] ~= '' then
  for i = ixFrom, #ARGV, 4 do
    if ARGV[i + 2] == '1' then
      local cur = redis.call('HGET', KEYS[tonumber(ARGV[i])], ARGV[i + 1])
      if cur and cur ~= id then return redis.error_reply('UNIQUENESS ' .. ARGV[i + 3]) end
    end
  end
end

local mc = nil
if ARGV[9] ~= '' then
  mc = cjson.decode(ARGV[9])
  for _, a in ipairs(mc.add) do
    local t = redis.call('HGET', p .. 'r:' .. a[1], 't')
    if not t then return redis.error_reply('NOMEMBER ' .. a[1]) end
    a[3] = t
  end
  if not mc.replace then
    for _, mid in ipairs(mc.present) do
      if redis.call('HEXISTS', p .. 'm:' .. id, mid) == 0 then return redis.error_reply('NOTARGET ' .. mid) end
    end
  end
end

-- fields of res to set, in one HSET at the end
local hs = {}
local changed = (mode == 'create')
local docChanged = (mode == 'create')
local added, removed = {}, {}
-- rebuild: the document moves out of the hash, which is then written
-- anew at the end rather than changed in place: Redis never turns a hash
-- table back into a listpack, and a hash that held a long document is one
local rebuild = false
if ARGV[7] ~= '' then
  -- the stored document: the hash's "doc" field, else (none, or the
  -- in-key mark) the document key
  local dkey = p .. 'd:' .. id
  local cur, inHash = nil, false
  if mode ~= 'create' then
    cur = redis.call('HGET', res, 'doc')
    inHash = not inKey(cur)
    if not inHash then cur = docOf(redis.call('GET', dkey)) end
  end
  if mode == 'create' or not sameDoc(cur, ARGV[7]) then
    local dv = '1'
    if mode ~= 'create' then dv = tostring(redis.call('HINCRBY', res, 'dv', '1')) end
    hs[#hs + 1] = 'doc'
    if ARGV[27] == '1' then
      redis.call('SET', dkey, dv .. ' ' .. ARGV[7])
      hs[#hs + 1] = DOC_IN_KEY
      rebuild = inHash
    else
      hs[#hs + 1] = ARGV[7]
      if mode ~= 'create' and not inHash then redis.call('DEL', dkey) end
    end
    changed = true
    docChanged = true
  end
end

if ARGV[8] ~= '' then
  if mode ~= 'create' then dropIndexEntries(res, id) end
  for i = ixFrom, #ARGV, 4 do
    if ARGV[i + 2] == '1' then
      redis.call('HSET', KEYS[tonumber(ARGV[i])], ARGV[i + 1], id)
    else
      redis.call('ZADD', KEYS[tonumber(ARGV[i])], '0', ARGV[i + 1] .. '\0' .. id)
    end
  end
  hs[#hs + 1] = 'ix'
  hs[#hs + 1] = ARGV[8]
  local off = {}
  for f in string.gmatch(ARGV[25], '[^,]+') do off[#off + 1] = f end
  if #off > 0 then redis.call('HDEL', p .. 'ixready', unpack(off)) end
  for _, f in ipairs({{'ix2', ARGV[17]}, {'ix3', ARGV[23]}}) do
    if f[2] ~= '' then
      hs[#hs + 1] = f[1]
      hs[#hs + 1] = f[2]
    elseif mode ~= 'create' then
      redis.call('HDEL', res, f[1])
    end
  end
end

if ARGV[10] ~= '' then
  redis.call('HSET', p .. 'gname', id, ARGV[10])
end

if mc then
  local mkey = p .. 'm:' .. id
  if mc.replace then
    local cur = redis.call('HKEYS', mkey)
    for _, mid in ipairs(cur) do
      redis.call('SREM', p .. 'of:' .. mid, id)
      removed[mid] = true
    end
    if #cur > 0 then
      redis.call('DEL', mkey)
      changed = true
    end
  end
  for _, mid in ipairs(mc.remove) do
    if redis.call('HDEL', mkey, mid) == 1 then
      redis.call('SREM', p .. 'of:' .. mid, id)
      removed[mid] = true
      changed = true
    end
  end
  for _, a in ipairs(mc.add) do
    local val = '{"type":' .. cjson.encode(a[3]) .. ',"display":' .. cjson.encode(a[2]) .. '}'
    if redis.call('HGET', mkey, a[1]) ~= val then
      if redis.call('HSET', mkey, a[1], val) == 1 then
        if removed[a[1]] then removed[a[1]] = nil else added[a[1]] = true end
      end
      redis.call('SADD', p .. 'of:' .. a[1], id)
      changed = true
    end
  end
end

local v
if mode == 'create' then
  v = 1
  hs[#hs + 1] = 't'
  hs[#hs + 1] = typ
  hs[#hs + 1] = 'v'
  hs[#hs + 1] = '1'
  hs[#hs + 1] = 'dv'
  hs[#hs + 1] = '1'
  hs[#hs + 1] = 'c'
  if stamp ~= '' then
    hs[#hs + 1] = stamp
  else
    hs[#hs + 1] = ARGV[6]
    hs[#hs + 1] = 'm'
    hs[#hs + 1] = ARGV[6]
  end
  redis.call('ZADD', KEYS[2], '0', id)
elseif changed then
  v = redis.call('HINCRBY', res, 'v', '1')
  hs[#hs + 1] = 'm'
  if stamp ~= '' then hs[#hs + 1] = stamp else hs[#hs + 1] = ARGV[6] end
else
  v = tonumber(redis.call('HGET', res, 'v'))
end
-- v as text: a number passed to redis.call or concatenated is formatted
-- with sprintf, which a creation avoids
local vs = mode == 'create' and '1' or tostring(v)
local auditID = ''
if changed and ARGV[11] ~= '' then
  local maxlen = ARGV[11]
  local a = 1
  if next(added) ~= nil or next(removed) ~= nil then
    if docChanged then a = 2 else a = 3 end
  end
  local afrom = auditFrom[a]
  auditID = redis.call('XADD', KEYS[#KEYS - 1], 'MAXLEN', '~', maxlen, '*',
    unpack(ARGV, afrom, afrom + nAudit[a] - 1))
  local ev = KEYS[#KEYS]
  if docChanged and ARGV[18] ~= '' then
    redis.call('XADD', ev, 'MAXLEN', '~', maxlen, '*', 'type', ARGV[18], 'resource_type', typ, 'id', id,
      'audit_id', auditID, 'time', ARGV[6], 'version', vs, 'changed', ARGV[22])
  end
  for mid in pairs(added) do
    redis.call('XADD', ev, 'MAXLEN', '~', maxlen, '*', 'type', 'group.member_added', 'resource_type', typ, 'id', id,
      'audit_id', auditID, 'time', ARGV[6], 'member', mid)
  end
  for mid in pairs(removed) do
    redis.call('XADD', ev, 'MAXLEN', '~', maxlen, '*', 'type', 'group.member_removed', 'resource_type', typ, 'id', id,
      'audit_id', auditID, 'time', ARGV[6], 'member', mid)
  end
end

if rebuild then
  -- the hash's fields as they are now, with those of hs over them
  local f = redis.call('HGETALL', res)
  local set = {}
  for i = 1, #hs, 2 do set[hs[i]] = true end
  for i = 1, #f, 2 do
    if not set[f[i]] then
      hs[#hs + 1] = f[i]
      hs[#hs + 1] = f[i + 1]
    end
  end
  redis.call('DEL', res)
end
if #hs > 0 then redis.call('HSET', res, unpack(hs)) end
local ch = changed and 1 or 0
writeDone(p, token, vs .. (changed and ' 1 ' or ' 0 ') .. auditID)
-- an update of attributes stored ARGV[7] (or had it already): its reply
-- leaves the document out, the caller sent it
local nodoc = mode ~= 'create' and ARGV[7] ~= ''
local known = nil
if mode == 'create' and ARGV[7] ~= '' then
  -- the fields just set by the HSET above (no role yet), the document
  -- left out: the caller sent it (a resent creation answered from its
  -- write token above returns it in full)
  known = {typ, '', '1', ARGV[6], ARGV[6], nil, '1'}
end
-- a new resource is in no group (of:<id> goes with its resource, and a
-- group's member must exist), so a creation's reply skips that read
return writeReply(p, res, id, {v, ch, auditID}, ARGV[15], known and '0' or ARGV[16], known, nodoc)
`)

// deleteScript removes one resource and every reference to it.
//
//	KEYS[1] r:<id>   KEYS[2] all:<Type>   KEYS[3..] index keys of the type
//	ARGV[1] key prefix  ARGV[2] id  ARGV[3] expected version ("0" = any)
//	ARGV[4] now (RFC 3339, lastModified of groups that lose the member)
//	ARGV[5] type
//	ARGV[6] journal: the streams' approximate MAXLEN ("" = no journal);
//	        KEYS[#KEYS-1] is the audit stream, KEYS[#KEYS] the change-event
//	        stream; ARGV[10] the change-event type, ARGV[12..] the audit
//	        record as stream entry fields (audit.AppendFields)
//	ARGV[11] compact resources: now as unix nanoseconds, the form the
//	        groups that lose the member store "m" in ("" = off: ARGV[4])
//	ARGV[7] soft delete: the deletion time in unix ms ("" = hard delete)
//	ARGV[8] write token ("" = none)  ARGV[9] deadline, unix ms ("0" = none):
//	        see writeGuard
//
// Returns the audit entry id ("" without a journal), or an error reply:
// NOTFOUND, VERSION, DEADLINE.
var deleteScript = redis.NewScript(luaDropIndexEntries + luaWriteGuard + luaDocOf + `
local p, id = ARGV[1], ARGV[2]
local res = KEYS[1]
local done, gerr = writeGuard(p, ARGV[8], ARGV[9])
if gerr then return redis.error_reply(gerr) end
if done then return done end
if redis.call('HGET', res, 't') ~= ARGV[5] then return redis.error_reply('NOTFOUND') end
if ARGV[3] ~= '0' and redis.call('HGET', res, 'v') ~= ARGV[3] then
  return redis.error_reply('VERSION')
end
dropIndexEntries(res, id)
local maxlen, aid = nil, nil
if ARGV[6] ~= '' then
  maxlen = ARGV[6]
  aid = redis.call('XADD', KEYS[#KEYS - 1], 'MAXLEN', '~', maxlen, '*', unpack(ARGV, 12))
  redis.call('XADD', KEYS[#KEYS], 'MAXLEN', '~', maxlen, '*', 'type', ARGV[10], 'resource_type', ARGV[5], 'id', id,
    'audit_id', aid, 'time', ARGV[4])
end
-- groups that contain this resource lose it
local ofkey = p .. 'of:' .. id
local mstamp = ARGV[11] or ''
if mstamp == '' then mstamp = ARGV[4] end
for _, gid in ipairs(redis.call('SMEMBERS', ofkey)) do
  if redis.call('HDEL', p .. 'm:' .. gid, id) == 1 then
    redis.call('HINCRBY', p .. 'r:' .. gid, 'v', '1')
    redis.call('HSET', p .. 'r:' .. gid, 'm', mstamp)
    if maxlen then
      redis.call('XADD', KEYS[#KEYS], 'MAXLEN', '~', maxlen, '*', 'type', 'group.member_removed', 'resource_type', 'Group',
        'id', gid, 'audit_id', aid, 'time', ARGV[4], 'member', id)
    end
  end
end
redis.call('DEL', ofkey)
-- a group's members lose their back-reference
if redis.call('HGET', res, 't') == 'Group' then
  local mkey = p .. 'm:' .. id
  for _, mid in ipairs(redis.call('HKEYS', mkey)) do
    redis.call('SREM', p .. 'of:' .. mid, id)
  end
  redis.call('DEL', mkey)
  redis.call('HDEL', p .. 'gname', id)
end
local dkey = p .. 'd:' .. id
if ARGV[7] ~= '' then
  -- soft delete: keep the record, outside every index, until purged, its
  -- document in the hash
  local d = redis.call('GET', dkey)
  local hd = redis.call('HGET', res, 'doc')
  if d and inKey(hd) then redis.call('HSET', res, 'doc', docOf(d)) end
  redis.call('HSET', res, 'deleted', ARGV[4])
  redis.call('RENAME', res, p .. 'deleted:' .. id)
  redis.call('ZADD', p .. 'deleted', ARGV[7], id)
else
  redis.call('DEL', res)
end
redis.call('DEL', dkey)
redis.call('ZREM', KEYS[2], id)
-- a resent creation of this resource (createResent) must not bring it back
redis.call('SET', p .. 'gone:' .. id, '1', 'PX', 120000)
return writeDone(p, ARGV[8], aid or '')
`)

// purgeScript drops soft-deleted resources deleted before a time.
//
//	ARGV[1] key prefix  ARGV[2] cutoff (unix ms)  ARGV[3] batch size
//
// Returns the number purged.
var purgeScript = redis.NewScript(`
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p .. 'deleted', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('DEL', p .. 'deleted:' .. id)
  redis.call('ZREM', p .. 'deleted', id)
end
return #ids
`)

// luaDocOf defines docOf(v): the JSON of a document key's value v
// ("<dv> <JSON>"; v as it is without a space), or false for false (no
// key); DOC_IN_KEY, the hash's "doc" when the document is in its key
// (docInKeyMark); and inKey(hd), whether a hash whose "doc" is hd (false:
// none) keeps its document in its key (storedDoc in Go).
const luaDocOf = `
local DOC_IN_KEY = '\1\0'
local function inKey(hd)
  return not hd or hd == DOC_IN_KEY
end
local function docOf(v)
  if not v then return false end
  local sp = string.find(v, ' ', 1, true)
  if not sp then return v end
  return string.sub(v, sp + 1)
end
`

// luaReadOne defines readOne(p, key, id, members, groups, known, nodoc),
// shared by the read scripts and the write reply: the resource at key as
// {t, doc, v, c, m, {gid, name, ...}, {memberId, json, ...}, role, dv}, or {}
// when it does not exist; doc is the hash's "doc" field or, without one,
// the value of its document key d:<id> ("<dv> <JSON>", see docValue), or {}
// when it does not exist; m is empty when the hash has none (a compact
// resource not changed since its creation: lastModified is c). known,
// when not nil, stands for the HMGET of the resource's fields (a creation
// knows them all). With nodoc, doc is "" and not read (an update's reply:
// the caller sent the document). A script run reads at most
// groupNameBatch group names (one HGET each); the later groups' names are
// false, for the caller to read in bounded commands (fillGroupNames).
const luaReadOne = luaDocOf + `
-- the group names one script run reads; past them a group's name is false
-- (nil in the reply), and the caller reads it (fillGroupNames)
local namesLeft = ` + groupNameBatchLua + `
local function readOne(p, key, id, members, groups, known, nodoc)
  local r = known
  if not r and nodoc then
    r = redis.call('HMGET', key, 't', 'v', 'c', 'm', 'role', 'dv')
    r = {r[1], '', r[2], r[3], r[4], r[5], r[6]}
  elseif not r then
    r = redis.call('HMGET', key, 't', 'doc', 'v', 'c', 'm', 'role', 'dv')
  end
  if not r[1] then return {} end
  -- the document key's value as it is ("<dv> <JSON>": the caller cuts it)
  if inKey(r[2]) then r[2] = redis.call('GET', p .. 'd:' .. id) or '' end
  local gs = {}
  if groups == '1' then
    for _, gid in ipairs(redis.call('SMEMBERS', p .. 'of:' .. id)) do
      gs[#gs + 1] = gid
      if namesLeft > 0 then
        namesLeft = namesLeft - 1
        gs[#gs + 1] = redis.call('HGET', p .. 'gname', gid) or ''
      else
        gs[#gs + 1] = false
      end
    end
  end
  local ms = {}
  if members == '1' and r[1] == 'Group' then ms = redis.call('HGETALL', p .. 'm:' .. id) end
  return {r[1], r[2], r[3], r[4], r[5] or '', gs, ms, r[6] or '', r[7] or '1'}
end
`

// readScript reads resources with their derived data in one round trip.
//
//	KEYS r:<id> for each id
//	ARGV[1] key prefix  ARGV[2] members "1"|"0"  ARGV[3] groups "1"|"0"
//
// Returns one entry per key as readOne returns it.
var readScript = redis.NewScript(luaReadOne + `
local p = ARGV[1]
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = readOne(p, key, string.sub(key, #p + 3), ARGV[2], ARGV[3])
end
return out
`)

// lookupReadScript resolves a unique index entry and reads the resource it
// names in the same round trip (a filter "userName eq ..." in one step).
//
//	KEYS[1] the unique index hash
//	ARGV[1] key prefix  ARGV[2] normalised value  ARGV[3] members "1"|"0"
//	ARGV[4] groups "1"|"0"
//
// Returns {} when no entry, else {id, resource as readOne returns it}.
var lookupReadScript = redis.NewScript(luaReadOne + `
local p = ARGV[1]
local id = redis.call('HGET', KEYS[1], ARGV[2])
if not id then return {} end
return {id, readOne(p, p .. 'r:' .. id, id, ARGV[3], ARGV[4])}
`)

// setRolesScript stores users' effective roles and publishes
// user.role_changed for each one that changed.
//
//	KEYS[1..n] r:<id> of each user   KEYS[n+1] change-event stream
//	ARGV[1] now  ARGV[2] stream maxlen  ARGV[3] audit entry id ("" = none)
//	ARGV[4..n+3] the new role of each user ("" = none)
//
// Returns the flat list {id, old, new, ...} of the users whose role changed;
// users that no longer exist are skipped.
var setRolesScript = redis.NewScript(`
local out = {}
local ev = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  local key = KEYS[i]
  if redis.call('HGET', key, 't') == 'User' then
    local old = redis.call('HGET', key, 'role') or ''
    local new = ARGV[i + 3]
    if old ~= new then
      redis.call('HSET', key, 'role', new)
      local id = string.match(key, 'r:(.*)$')
      redis.call('XADD', ev, 'MAXLEN', '~', ARGV[2], '*', 'type', 'user.role_changed', 'resource_type', 'User',
        'id', id, 'audit_id', ARGV[3], 'time', ARGV[1], 'data', cjson.encode({old_role = old, role = new}))
      out[#out + 1] = id
      out[#out + 1] = old
      out[#out + 1] = new
    end
  end
end
return out
`)
