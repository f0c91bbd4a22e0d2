// SPDX-License-Identifier: Apache-2.0

package redis

// The Lua scripts run atomically in Redis: one admission or settlement is
// one script, so replicas never interleave inside one. Numbers are Lua
// doubles, exact for integers below 2^53: times are unix milliseconds
// (~1.8e12), GCRA levels at most cost×period(ms) above Limit×period (6e13 for
// a TPM of a billion), money in micro-USD. Integers are written back with
// string.format('%d'), never with Lua's default number formatting, which
// switches to exponents.
//
// Layout, for a counter key K (already prefixed):
//
//	budget  K      hash  c = committed, r = sum of reservations,
//	                     a:<id> = the amount reserved by reservation <id>
//	        K:res  zset  <id> scored by the unix ms until which it counts
//	rate    K      hash  q = level (cost×period units), t = unix ms of q
//
// Expired reservations are purged from a budget counter before it is read,
// so a replica that died mid-call holds its reservation for ReserveTTL at
// most. Budget keys expire after their window; rate keys expire when their
// level has drained. Expiries are relative (PEXPIRE, computed as ExpireAt -
// Now by the caller) rather than absolute, so that they follow the callers'
// clock, the one every other time in a request comes from, and not the
// Redis server's.

// scriptCommon are the helpers of both scripts.
const scriptCommon = `
local function int(x) return string.format('%d', x) end

local function purge(h, z, now)
  local gone = redis.call('ZRANGEBYSCORE', z, '-inf', '(' .. now)
  if #gone == 0 then return end
  local sum = 0
  for _, rid in ipairs(gone) do
    local f = 'a:' .. rid
    local a = redis.call('HGET', h, f)
    if a then
      sum = sum + tonumber(a)
      redis.call('HDEL', h, f)
    end
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', '(' .. now)
  if sum ~= 0 then redis.call('HINCRBY', h, 'r', int(-sum)) end
end

-- level returns the GCRA level of k drained to now, and the time of the
-- stored level (never later than now is treated as earlier).
local function level(k, limit, now)
  local v = redis.call('HMGET', k, 'q', 't')
  if not v[1] then return 0, now end
  local q, t = tonumber(v[1]), tonumber(v[2])
  local el = now - t
  if el > 0 then
    q = q - el * limit
    if q < 0 then q = 0 end
    t = now
  end
  return q, t
end

local function store(k, q, t, limit)
  if q <= 0 then
    redis.call('DEL', k)
    return
  end
  redis.call('HSET', k, 'q', int(q), 't', int(t))
  redis.call('PEXPIRE', k, int(math.ceil(q / limit) + 1000))
end
`

// scriptAdmit checks every counter and, only if all admit, reserves and
// consumes.
//
//	KEYS: per budget K, K:res; then per rate K
//	ARGV: id, now, ttl, nb, nr; per budget limit, amount, enforce, ttl (ms);
//	      per rate limit, period, cost
//	returns {0, 0, 0, over} admitted ({1, i} / {2, j, retryMs} refused by
//	budget i / rate j, 1-based; over = first soft budget passed, 0 none)
const scriptAdmit = scriptCommon + `
local id = ARGV[1]
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local nb = tonumber(ARGV[4])
local nr = tonumber(ARGV[5])
local over = 0
local a = 6
for i = 1, nb do
  local h, z = KEYS[2*i-1], KEYS[2*i]
  purge(h, z, now)
  local limit, amount = tonumber(ARGV[a]), tonumber(ARGV[a+1])
  local v = redis.call('HMGET', h, 'c', 'r')
  local used = tonumber(v[1] or 0) + tonumber(v[2] or 0)
  local need = amount
  if need < 1 then need = 1 end
  if used + need > limit then
    if ARGV[a+2] == '1' then return {1, i, 0, 0} end
    if over == 0 then over = i end
  end
  a = a + 4
end
local levels, times = {}, {}
for j = 1, nr do
  local k = KEYS[2*nb+j]
  local limit, period, cost = tonumber(ARGV[a]), tonumber(ARGV[a+1]), tonumber(ARGV[a+2])
  local q, t = level(k, limit, now)
  local excess = q + cost * period - limit * period
  if excess > 0 then return {2, j, math.ceil(excess / limit), 0} end
  levels[j], times[j] = q + cost * period, t
  a = a + 3
end
a = 6
local untl = now + ttl
for i = 1, nb do
  local h, z = KEYS[2*i-1], KEYS[2*i]
  local amount, kttl = tonumber(ARGV[a+1]), ARGV[a+3]
  local f = 'a:' .. id
  local old = redis.call('HGET', h, f)
  if old then amount = amount - tonumber(old) end
  redis.call('HSET', h, f, ARGV[a+1])
  redis.call('HINCRBY', h, 'r', int(amount))
  redis.call('ZADD', z, int(untl), id)
  redis.call('PEXPIRE', h, kttl)
  redis.call('PEXPIRE', z, kttl)
  a = a + 4
end
for j = 1, nr do
  store(KEYS[2*nb+j], levels[j], times[j], tonumber(ARGV[a]))
  a = a + 3
end
return {0, 0, 0, over}
`

// scriptSettle ends a reservation and commits or corrects.
//
//	KEYS: as scriptAdmit
//	ARGV: id, now, nb, nr; per budget amount, ttl (ms); per rate limit,
//	      period, delta
const scriptSettle = scriptCommon + `
local id = ARGV[1]
local now = tonumber(ARGV[2])
local nb = tonumber(ARGV[3])
local nr = tonumber(ARGV[4])
local a = 5
local f = 'a:' .. id
for i = 1, nb do
  local h, z = KEYS[2*i-1], KEYS[2*i]
  local r = redis.call('HGET', h, f)
  if r then
    redis.call('HDEL', h, f)
    redis.call('ZREM', z, id)
    redis.call('HINCRBY', h, 'r', int(-tonumber(r)))
  end
  if ARGV[a] ~= '0' then
    redis.call('HINCRBY', h, 'c', ARGV[a])
    redis.call('PEXPIRE', h, ARGV[a+1])
  end
  a = a + 2
end
for j = 1, nr do
  local k = KEYS[2*nb+j]
  local limit, period, delta = tonumber(ARGV[a]), tonumber(ARGV[a+1]), tonumber(ARGV[a+2])
  local q, t = level(k, limit, now)
  store(k, q + delta * period, t, limit)
  a = a + 3
end
return 0
`
