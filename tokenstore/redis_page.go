package tokenstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// ErrBadCursor refuses a paging cursor the store did not hand out.
var ErrBadCursor = errors.New("tokenstore: malformed cursor")

// MaxClientPage is the most clients one ListClientsPage call returns.
const MaxClientPage = 1000

// ClientQuery selects a page of clients by name.
type ClientQuery struct {
	// Prefix keeps the clients whose name starts with it, compared
	// case-insensitively ("" keeps all).
	Prefix string
	// Cursor continues after the last client of a previous page (its
	// ClientPage.Next); "" starts at the first name.
	Cursor string
	// Limit is the page size, 1 to MaxClientPage (out of range: clamped).
	Limit int
}

// ClientPage is one page of clients, ordered by name.
type ClientPage struct {
	Clients []Client
	// Next is the cursor of the following page, "" on the last one.
	Next string
}

func (r *Redis) orderKey() string { return r.base + "client-order" }

// listClientsPageScript reads a page of the name order and the records of
// the clients on it. KEYS[1] client-names, KEYS[2] client-order.
// ARGV: base, ZRANGEBYLEX min, max, count.
//
// client-order is an index of client-names kept by the client scripts; a
// gateway of an earlier release does not keep it, so when the two sizes
// differ, or a name on the page is no longer in client-names (renamed by
// such a gateway), the order is rebuilt from client-names. That costs one
// pass over the names, once per drift; a page otherwise costs O(log n +
// count).
// Returns a flat list: lower-cased name, client data, ...
var listClientsPageScript = redis.NewScript(`
local function rebuild()
  redis.call('DEL', KEYS[2])
  local names = redis.call('HKEYS', KEYS[1])
  for i = 1, #names, 500 do
    local args = {}
    for j = i, math.min(i + 499, #names) do
      args[#args + 1] = 0
      args[#args + 1] = names[j]
    end
    redis.call('ZADD', KEYS[2], unpack(args))
  end
end
if redis.call('ZCARD', KEYS[2]) ~= redis.call('HLEN', KEYS[1]) then rebuild() end
for attempt = 1, 2 do
  local out, stale = {}, false
  for _, n in ipairs(redis.call('ZRANGEBYLEX', KEYS[2], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))) do
    local id = redis.call('HGET', KEYS[1], n)
    local d = id and redis.call('HGET', ARGV[1] .. 'client:' .. id, 'data')
    if d then
      out[#out + 1] = n
      out[#out + 1] = d
    else
      stale = true
    end
  end
  if not stale or attempt == 2 then return out end
  rebuild()
end
`)

// ListClientsPage implements Store.
func (r *Redis) ListClientsPage(ctx context.Context, q ClientQuery) (ClientPage, error) {
	limit := min(max(q.Limit, 1), MaxClientPage)
	prefix := nameKey(q.Prefix)
	lo, hi := "-", "+"
	if prefix != "" {
		// 0xff never occurs in UTF-8, so every name with the prefix sorts
		// below prefix+"\xff".
		lo, hi = "["+prefix, "["+prefix+"\xff"
	}
	if q.Cursor != "" {
		after, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || len(after) == 0 {
			return ClientPage{}, ErrBadCursor
		}
		if string(after) >= prefix {
			lo = "(" + string(after)
		}
	}
	res, err := listClientsPageScript.Run(ctx, r.rdb, []string{r.namesKey(), r.orderKey()},
		r.base, lo, hi, limit+1).StringSlice()
	if err != nil {
		return ClientPage{}, fmt.Errorf("list clients: %w", err)
	}
	var p ClientPage
	for i := 0; i+1 < len(res); i += 2 {
		if len(p.Clients) == limit {
			p.Next = base64.RawURLEncoding.EncodeToString([]byte(res[i-2]))
			break
		}
		var c Client
		if err := json.Unmarshal([]byte(res[i+1]), &c); err != nil {
			return ClientPage{}, fmt.Errorf("decode client: %w", err)
		}
		p.Clients = append(p.Clients, c)
	}
	return p, nil
}
