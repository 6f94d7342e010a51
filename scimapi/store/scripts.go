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
// side (a rolling upgrade) neither touches a key of the wrong type.
const luaDropIndexEntries = `
local function dropIndexEntries(res, id)
  for _, field in ipairs({'ix', 'ix2'}) do
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
// It returns the stored reply, or nil and an error reply code, or nil, nil.
const luaWriteGuard = `
local function writeGuard(p, token, deadline)
  if token ~= '' then
    local done = redis.call('GET', p .. 'w:' .. token)
    if done then return cjson.decode(done), nil end
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
  if token ~= '' then redis.call('SET', p .. 'w:' .. token, cjson.encode(reply), 'PX', 120000) end
  return reply
end
`

// luaWriteReply defines writeReply(p, res, id, head, members, groups): the
// write script's reply, head (version, changed, audit id) followed by the
// resource as readScript returns it, so a write needs no second read.
const luaWriteReply = `
local function writeReply(p, res, id, head, members, groups)
  local r = redis.call('HMGET', res, 't', 'doc', 'v', 'c', 'm', 'role', 'dv')
  local gs = {}
  if groups == '1' then
    for _, gid in ipairs(redis.call('SMEMBERS', p .. 'of:' .. id)) do
      gs[#gs + 1] = gid
      gs[#gs + 1] = redis.call('HGET', p .. 'gname', gid) or ''
    end
  end
  local ms = {}
  if members == '1' and r[1] == 'Group' then ms = redis.call('HGETALL', p .. 'm:' .. id) end
  return {head[1], head[2], head[3], {r[1], r[2], r[3], r[4], r[5], gs, ms, r[6] or '', r[7] or '1'}}
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
//	ARGV[7] attributes JSON ("" = unchanged)
//	ARGV[8] index entries JSON [[keyIndex, value, unique(0|1), attr, added(0|1)], ...] ("" = unchanged);
//	        stored in the "ix" field, those with added=1 in "ix2"
//	ARGV[9] member change JSON {"replace":b,"add":[[id,display]],"remove":[id],"present":[id]} ("" = none)
//	ARGV[10] group displayName ("" = unchanged)
//	ARGV[11] journal JSON ("" = none): {"audit":{event},"doc_action","member_action",
//	         "event","maxlen"}; KEYS[#KEYS-1] is the audit stream, KEYS[#KEYS]
//	         the change-event stream. Records are appended only when something
//	         changed, in the same atomic step as the change.
//	ARGV[13] write token ("" = none)  ARGV[14] deadline, unix ms ("0" = none):
//	         see writeGuard
//	ARGV[15] reply with members "1"|"0"  ARGV[16] reply with groups "1"|"0"
//	ARGV[17] creating a User: the most Users KEYS[2] may hold ("0" = no cap),
//	         checked here so concurrent creations cannot pass it (QUOTA)
//
// Returns {version, changed(0|1), audit entry id or "", resource as readScript
// returns it} or an error reply: NOTFOUND, EXISTS, VERSION, UNIQUENESS <attr>,
// NOMEMBER <id>, NOTARGET <id>, DEADLINE, QUOTA.
var writeScript = redis.NewScript(luaDropIndexEntries + luaWriteGuard + luaWriteReply + `
local p, id, typ, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local res = KEYS[1]
local done, gerr = writeGuard(p, ARGV[13], ARGV[14])
if gerr then return redis.error_reply(gerr) end
if done then return writeReply(p, res, id, done, ARGV[15], ARGV[16]) end
local exists = redis.call('EXISTS', res) == 1
if mode == 'create' then
  if exists then return redis.error_reply('EXISTS') end
  if typ == 'User' and ARGV[17] ~= '0' and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[17]) then
    return redis.error_reply('QUOTA')
  end
else
  if not exists or redis.call('HGET', res, 't') ~= typ then return redis.error_reply('NOTFOUND') end
  if ARGV[5] ~= '0' and redis.call('HGET', res, 'v') ~= ARGV[5] then
    return redis.error_reply('VERSION')
  end
  if ARGV[12] ~= '0' and (redis.call('HGET', res, 'dv') or '1') ~= ARGV[12] then
    return redis.error_reply('VERSION')
  end
end

local newix = nil
if ARGV[8] ~= '' then
  newix = cjson.decode(ARGV[8])
  for _, e in ipairs(newix) do
    if e[3] == 1 then
      local cur = redis.call('HGET', KEYS[e[1]], e[2])
      if cur and cur ~= id then return redis.error_reply('UNIQUENESS ' .. e[4]) end
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

local changed = (mode == 'create')
local docChanged = (mode == 'create')
local added, removed = {}, {}
if ARGV[7] ~= '' then
  if redis.call('HGET', res, 'doc') ~= ARGV[7] then
    redis.call('HSET', res, 'doc', ARGV[7])
    if mode ~= 'create' then redis.call('HINCRBY', res, 'dv', 1) end
    changed = true
    docChanged = true
  end
end

if newix then
  dropIndexEntries(res, id)
  for _, e in ipairs(newix) do
    if e[3] == 1 then
      redis.call('HSET', KEYS[e[1]], e[2], id)
    else
      redis.call('ZADD', KEYS[e[1]], 0, e[2] .. '\0' .. id)
    end
  end
  local first, added = {}, {}
  for _, e in ipairs(newix) do
    if e[5] == 1 then added[#added + 1] = e else first[#first + 1] = e end
  end
  redis.call('HSET', res, 'ix', #first > 0 and cjson.encode(first) or '[]')
  if #added > 0 then redis.call('HSET', res, 'ix2', cjson.encode(added)) else redis.call('HDEL', res, 'ix2') end
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

local aidOut = nil
if changed and ARGV[11] ~= '' then
  local j = cjson.decode(ARGV[11])
  local a = j.audit
  local membersChanged = next(added) ~= nil or next(removed) ~= nil
  a.action = j.doc_action
  if not docChanged and membersChanged then a.action = j.member_action end
  a.target.id = id
  if membersChanged then
    if type(a.changed) ~= 'table' then a.changed = {} end
    a.changed[#a.changed + 1] = 'members'
  end
  local aid = redis.call('XADD', KEYS[#KEYS - 1], 'MAXLEN', '~', j.maxlen, '*', 'e', cjson.encode(a))
  aidOut = aid
  local ev = KEYS[#KEYS]
  if docChanged and j.event ~= '' then
    redis.call('XADD', ev, 'MAXLEN', '~', j.maxlen, '*', 'type', j.event, 'resource_type', typ, 'id', id,
      'audit_id', aid, 'time', ARGV[6], 'data', ARGV[7])
  end
  for mid in pairs(added) do
    redis.call('XADD', ev, 'MAXLEN', '~', j.maxlen, '*', 'type', 'group.member_added', 'resource_type', typ, 'id', id,
      'audit_id', aid, 'time', ARGV[6], 'member', mid)
  end
  for mid in pairs(removed) do
    redis.call('XADD', ev, 'MAXLEN', '~', j.maxlen, '*', 'type', 'group.member_removed', 'resource_type', typ, 'id', id,
      'audit_id', aid, 'time', ARGV[6], 'member', mid)
  end
end

local v
local auditID = ''
if aidOut then auditID = aidOut end
if mode == 'create' then
  v = 1
  redis.call('HSET', res, 't', typ, 'v', 1, 'dv', 1, 'c', ARGV[6], 'm', ARGV[6])
  redis.call('ZADD', KEYS[2], 0, id)
elseif changed then
  v = redis.call('HINCRBY', res, 'v', 1)
  redis.call('HSET', res, 'm', ARGV[6])
else
  v = tonumber(redis.call('HGET', res, 'v'))
end
return writeReply(p, res, id, writeDone(p, ARGV[13], {v, changed and 1 or 0, auditID}), ARGV[15], ARGV[16])
`)

// deleteScript removes one resource and every reference to it.
//
//	KEYS[1] r:<id>   KEYS[2] all:<Type>   KEYS[3..] index keys of the type
//	ARGV[1] key prefix  ARGV[2] id  ARGV[3] expected version ("0" = any)
//	ARGV[4] now (RFC 3339, lastModified of groups that lose the member)
//	ARGV[5] type
//	ARGV[6] journal JSON ("" = none), as for writeScript; KEYS[#KEYS-1] is the
//	        audit stream, KEYS[#KEYS] the change-event stream
//	ARGV[7] soft delete: the deletion time in unix ms ("" = hard delete)
//	ARGV[8] write token ("" = none)  ARGV[9] deadline, unix ms ("0" = none):
//	        see writeGuard
//
// Returns the audit entry id ("" without a journal), or an error reply:
// NOTFOUND, VERSION, DEADLINE.
var deleteScript = redis.NewScript(luaDropIndexEntries + luaWriteGuard + `
local p, id = ARGV[1], ARGV[2]
local res = KEYS[1]
local done, gerr = writeGuard(p, ARGV[8], ARGV[9])
if gerr then return redis.error_reply(gerr) end
if done then return done[1] end
if redis.call('HGET', res, 't') ~= ARGV[5] then return redis.error_reply('NOTFOUND') end
if ARGV[3] ~= '0' and redis.call('HGET', res, 'v') ~= ARGV[3] then
  return redis.error_reply('VERSION')
end
dropIndexEntries(res, id)
local j, aid = nil, nil
if ARGV[6] ~= '' then
  j = cjson.decode(ARGV[6])
  j.audit.action = j.doc_action
  j.audit.target.id = id
  aid = redis.call('XADD', KEYS[#KEYS - 1], 'MAXLEN', '~', j.maxlen, '*', 'e', cjson.encode(j.audit))
  redis.call('XADD', KEYS[#KEYS], 'MAXLEN', '~', j.maxlen, '*', 'type', j.event, 'resource_type', ARGV[5], 'id', id,
    'audit_id', aid, 'time', ARGV[4])
end
-- groups that contain this resource lose it
local ofkey = p .. 'of:' .. id
for _, gid in ipairs(redis.call('SMEMBERS', ofkey)) do
  if redis.call('HDEL', p .. 'm:' .. gid, id) == 1 then
    redis.call('HINCRBY', p .. 'r:' .. gid, 'v', 1)
    redis.call('HSET', p .. 'r:' .. gid, 'm', ARGV[4])
    if j then
      redis.call('XADD', KEYS[#KEYS], 'MAXLEN', '~', j.maxlen, '*', 'type', 'group.member_removed', 'resource_type', 'Group',
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
if ARGV[7] ~= '' then
  -- soft delete: keep the record, outside every index, until purged
  redis.call('HSET', res, 'deleted', ARGV[4])
  redis.call('RENAME', res, p .. 'deleted:' .. id)
  redis.call('ZADD', p .. 'deleted', ARGV[7], id)
else
  redis.call('DEL', res)
end
redis.call('ZREM', KEYS[2], id)
return writeDone(p, ARGV[8], {aid or ''})[1]
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

// readScript reads resources with their derived data in one round trip.
//
//	KEYS r:<id> for each id
//	ARGV[1] key prefix  ARGV[2] members "1"|"0"  ARGV[3] groups "1"|"0"
//
// Returns one entry per key: {} when missing, else
// {t, doc, v, c, m, {gid, name, ...}, {memberId, json, ...}, role, dv}.
var readScript = redis.NewScript(`
local p = ARGV[1]
local out = {}
for i, key in ipairs(KEYS) do
  local r = redis.call('HMGET', key, 't', 'doc', 'v', 'c', 'm', 'role', 'dv')
  if not r[1] then
    out[i] = {}
  else
    local id = string.sub(key, #p + 3)
    local groups = {}
    if ARGV[3] == '1' then
      local gids = redis.call('SMEMBERS', p .. 'of:' .. id)
      for _, gid in ipairs(gids) do
        groups[#groups + 1] = gid
        groups[#groups + 1] = redis.call('HGET', p .. 'gname', gid) or ''
      end
    end
    local members = {}
    if ARGV[2] == '1' and r[1] == 'Group' then
      members = redis.call('HGETALL', p .. 'm:' .. id)
    end
    out[i] = {r[1], r[2], r[3], r[4], r[5], groups, members, r[6] or '', r[7] or '1'}
  end
end
return out
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
