package tokenstore

import "github.com/redis/go-redis/v9"

// The Lua scripts behind every multi-key change and the request-path
// lookup. ARGV[1] is always the key base "<prefix>{auth}:", from which a
// script derives keys that depend on what it read (same hash tag, same slot).

// createClientScript: KEYS[1] client-names, KEYS[2] client:<id>.
// ARGV: base, lower name, id, data, enabled, idp-subjects field (empty
// unless idp_jwt), issuer, directory id. A directory other than the
// default must have a record (DirectoryKey) that is not being deleted.
var createClientScript = redis.NewScript(idpIndexLua + `
if ARGV[8] ~= '' and ARGV[8] ~= 'default' then
  local d = redis.call('HMGET', ARGV[1] .. 'dir:' .. ARGV[8], 'data', 'deleting')
  if not d[1] or d[2] then return 'no_directory' end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'id_taken' end
if ARGV[6] ~= '' and redis.call('HEXISTS', ARGV[1] .. 'idp-subjects', ARGV[6]) == 1 then return 'subject_taken' end
if redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3]) == 0 then return 'name_taken' end
redis.call('ZADD', ARGV[1] .. 'client-order', 0, ARGV[2])
redis.call('HSET', KEYS[2], 'data', ARGV[4], 'enabled', ARGV[5], 'lname', ARGV[2])
idp_add(ARGV[1], KEYS[2], ARGV[6], ARGV[7], ARGV[3])
return 'ok'
`)

// updateClientScript: compare-and-swap of a client record, moving its
// name index entry when the name changes.
// KEYS[1] client-names, KEYS[2] client:<id>.
// ARGV: base, old data, new data, enabled, old lower name, new lower name, id,
// old and new idp-subjects field, old and new issuer (idp fields empty
// unless idp_jwt).
var updateClientScript = redis.NewScript(idpIndexLua + `
local cur = redis.call('HGET', KEYS[2], 'data')
if not cur then return 'not_found' end
if cur ~= ARGV[2] then return 'conflict' end
if ARGV[8] ~= ARGV[9] and ARGV[9] ~= '' and redis.call('HEXISTS', ARGV[1] .. 'idp-subjects', ARGV[9]) == 1 then return 'subject_taken' end
if ARGV[5] ~= ARGV[6] then
  if redis.call('HSETNX', KEYS[1], ARGV[6], ARGV[7]) == 0 then return 'name_taken' end
  if redis.call('HGET', KEYS[1], ARGV[5]) == ARGV[7] then
    redis.call('HDEL', KEYS[1], ARGV[5])
    redis.call('ZREM', ARGV[1] .. 'client-order', ARGV[5])
  end
  redis.call('ZADD', ARGV[1] .. 'client-order', 0, ARGV[6])
end
redis.call('HSET', KEYS[2], 'data', ARGV[3], 'enabled', ARGV[4], 'lname', ARGV[6])
if ARGV[8] ~= ARGV[9] then
  idp_remove(ARGV[1], KEYS[2], ARGV[8], ARGV[10], ARGV[7])
  idp_add(ARGV[1], KEYS[2], ARGV[9], ARGV[11], ARGV[7])
end
return 'ok'
`)

// deleteClientScript removes a client with all its tokens and indexes.
// KEYS[1] client-names, KEYS[2] client:<id>, KEYS[3] client:<id>:tokens.
// ARGV: base, id.
var deleteClientScript = redis.NewScript(idpIndexLua + `
local lname = redis.call('HGET', KEYS[2], 'lname')
if not lname then return 'not_found' end
local idp = redis.call('HMGET', KEYS[2], 'idp', 'iss')
idp_remove(ARGV[1], KEYS[2], idp[1] or '', idp[2] or '', ARGV[2])
for _, tid in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local h = redis.call('GET', ARGV[1] .. 'token-id:' .. tid)
  if h then redis.call('DEL', ARGV[1] .. 'token:' .. h) end
  redis.call('DEL', ARGV[1] .. 'token-id:' .. tid)
end
if redis.call('HGET', KEYS[1], lname) == ARGV[2] then
  redis.call('HDEL', KEYS[1], lname)
  redis.call('ZREM', ARGV[1] .. 'client-order', lname)
end
redis.call('DEL', KEYS[2], KEYS[3])
return 'ok'
`)

// createTokenScript: KEYS[1] client:<id>, KEYS[2] client:<id>:tokens,
// KEYS[3] token:<hash>, KEYS[4] token-id:<id>.
// ARGV: base, token id, hash, data, client id, exp ms, packed allow-list.
var createTokenScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not_found' end
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then return 'exists' end
redis.call('HSET', KEYS[3], 'data', ARGV[4], 'client', ARGV[5], 'exp', ARGV[6], 'allow', ARGV[7])
redis.call('SET', KEYS[4], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
return 'ok'
`)

// revokeTokenScript: KEYS[1] token-id:<id>. ARGV: base, now ms.
// Returns the token hash's fields, or false for an unknown id.
var revokeTokenScript = redis.NewScript(`
local h = redis.call('GET', KEYS[1])
if not h then return false end
local k = ARGV[1] .. 'token:' .. h
if redis.call('EXISTS', k) == 0 then return false end
redis.call('HSETNX', k, 'revoked', ARGV[2])
return redis.call('HMGET', k, 'data', 'revoked', 'used_at', 'used_ip')
`)

// lookupTokenScript is the request path. KEYS[1] token:<hash>.
// ARGV: base, now ms, remote ip as 16 bytes (empty if unknown), remote ip
// text, touch interval ms.
// Returns {code, token data, client data}; code is ok, unknown, revoked,
// expired, disabled or address. Recording the last use is best effort: a
// refused write (Redis full) does not fail the lookup.
//
// The allow-list is packed as 17-byte entries: a 16-byte (IPv4-mapped)
// network address and the prefix length in bits. Matching compares whole
// bytes, then the leading bits of the next byte by integer division (no
// bit library needed).
var lookupTokenScript = redis.NewScript(`
local t = redis.call('HMGET', KEYS[1], 'data', 'client', 'exp', 'revoked', 'allow', 'used_at')
if not t[1] then return {'unknown'} end
local c = redis.call('HMGET', ARGV[1] .. 'client:' .. t[2], 'data', 'enabled')
if not c[1] then return {'unknown'} end
local now = tonumber(ARGV[2])
if t[4] then return {'revoked', t[1], c[1]} end
if now >= tonumber(t[3]) then return {'expired', t[1], c[1]} end
if c[2] ~= '1' then return {'disabled', t[1], c[1]} end
local allow, ip = t[5], ARGV[3]
if allow and allow ~= '' then
  local ok = false
  if #ip == 16 then
    for i = 1, #allow, 17 do
      local bits = string.byte(allow, i + 16)
      local full = math.floor(bits / 8)
      if full == 0 or string.sub(allow, i, i + full - 1) == string.sub(ip, 1, full) then
        local rest = bits % 8
        if rest == 0 then ok = true break end
        local d = 2 ^ (8 - rest)
        if math.floor(string.byte(allow, i + full) / d) == math.floor(string.byte(ip, full + 1) / d) then ok = true break end
      end
    end
  end
  if not ok then return {'address', t[1], c[1]} end
end
if not t[6] or now - tonumber(t[6]) >= tonumber(ARGV[5]) then
  -- Best effort: a full Redis (OOM with noeviction) refuses the write, and
  -- that must not fail the request (pcall keeps the error in a table).
  redis.pcall('HSET', KEYS[1], 'used_at', ARGV[2], 'used_ip', ARGV[4])
end
return {'ok', t[1], c[1]}
`)
