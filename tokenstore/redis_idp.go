package tokenstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// methodIdPJWT is auth.MethodIdPJWT (tokenstore cannot import auth).
const methodIdPJWT = "idp_jwt"

func (r *Redis) idpSubjectsKey() string { return r.base + "idp-subjects" }
func (r *Redis) idpIssuersKey() string  { return r.base + "idp-issuers" }

// idpField is c's field in the idp-subjects hash, or "" when c is not an
// idp_jwt client with an issuer and a subject. Issuers and subjects never
// hold a newline (the admin service refuses control characters).
func idpField(c Client) string {
	if c.Method != methodIdPJWT || c.Issuer == "" || c.Subject == "" {
		return ""
	}
	return c.Issuer + "\n" + c.Subject
}

// idpIssuer is the issuer c is counted under in idp-issuers, or "".
func idpIssuer(c Client) string {
	if idpField(c) == "" {
		return ""
	}
	return c.Issuer
}

// idpIndexLua holds the index helpers the client scripts share. A field of
// "" means "not an idp_jwt client": nothing to index.
const idpIndexLua = `
local function idp_add(base, ckey, field, iss, id)
  if field == '' then return end
  redis.call('HSET', base .. 'idp-subjects', field, id)
  redis.call('HINCRBY', base .. 'idp-issuers', iss, 1)
  redis.call('HSET', ckey, 'idp', field, 'iss', iss)
end
local function idp_remove(base, ckey, field, iss, id)
  if field == '' then return end
  if redis.call('HGET', base .. 'idp-subjects', field) == id then
    redis.call('HDEL', base .. 'idp-subjects', field)
    if redis.call('HINCRBY', base .. 'idp-issuers', iss, -1) <= 0 then
      redis.call('HDEL', base .. 'idp-issuers', iss)
    end
  end
  redis.call('HDEL', ckey, 'idp', 'iss')
end
`

// lookupIdPClientScript: KEYS[1] idp-subjects, KEYS[2] idp-issuers.
// ARGV: base, idp-subjects field, issuer.
// Returns {'ok', client data}, {'unknown_subject'} or {'unknown_issuer'}.
var lookupIdPClientScript = redis.NewScript(`
local id = redis.call('HGET', KEYS[1], ARGV[2])
if not id then
  if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return {'unknown_subject'} end
  return {'unknown_issuer'}
end
local data = redis.call('HGET', ARGV[1] .. 'client:' .. id, 'data')
if not data then return {'unknown_subject'} end
return {'ok', data}
`)

// LookupIdPClient implements Store.
func (r *Redis) LookupIdPClient(ctx context.Context, issuer, subject string) (Client, error) {
	if issuer == "" {
		return Client{}, ErrUnknownIssuer
	}
	field := idpField(Client{Method: methodIdPJWT, Issuer: issuer, Subject: subject})
	if field == "" {
		// No subject: the issuer may still be trusted.
		field = issuer + "\n"
	}
	res, err := lookupIdPClientScript.Run(ctx, r.rdb, []string{r.idpSubjectsKey(), r.idpIssuersKey()},
		r.base, field, issuer).Slice()
	if err != nil {
		return Client{}, fmt.Errorf("lookup idp client: %w", err)
	}
	code, _ := res[0].(string)
	switch code {
	case "unknown_issuer":
		return Client{}, ErrUnknownIssuer
	case "unknown_subject":
		return Client{}, ErrUnknownSubject
	case "ok":
	default:
		return Client{}, fmt.Errorf("lookup idp client: unexpected script answer %q", code)
	}
	data, _ := res[1].(string)
	var c Client
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return Client{}, fmt.Errorf("decode idp client: %w", err)
	}
	return c, nil
}
