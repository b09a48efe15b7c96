/**
 * Lua scripts over one user's window (decision 0020). KEYS[1] is a hash { used, held, r:<id> → tokens }
 * and KEYS[2] a sorted set of reservation ids scored by when their hold expires. Each script first
 * drops expired holds, so a reservation whose process died is forgotten after its TTL without any
 * sweeper. Both keys share a hash tag ({user:day}) and expire a day after the window ends.
 */
const PURGE_EXPIRED = `
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(expired) do
  local amount = redis.call('HGET', KEYS[1], 'r:' .. id)
  if amount then
    redis.call('HINCRBY', KEYS[1], 'held', -tonumber(amount))
    redis.call('HDEL', KEYS[1], 'r:' .. id)
  end
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
local held = tonumber(redis.call('HGET', KEYS[1], 'held') or '0')
`;

/**
 * ARGV: now (ms), reservation id, tokens, budget, hold TTL (ms), keys' expiry (epoch ms).
 * → { 1, used, held } when held, { 0, used, held } when used + held + tokens would pass the budget.
 */
export const RESERVE = `${PURGE_EXPIRED}
local tokens = tonumber(ARGV[3])
if used + held + tokens > tonumber(ARGV[4]) then return { 0, used, held } end
redis.call('HSET', KEYS[1], 'r:' .. ARGV[2], tokens)
redis.call('HINCRBY', KEYS[1], 'held', tokens)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
redis.call('PEXPIREAT', KEYS[2], ARGV[6])
return { 1, used, held + tokens }`;

/**
 * ARGV: now (ms), reservation id, tokens used (0 = release), keys' expiry (epoch ms).
 * Drops the hold if it is still there and adds the tokens used — also when the hold had expired
 * (the call outlived its TTL): the tokens were spent all the same. → { used, held }.
 */
export const SETTLE = `${PURGE_EXPIRED}
local amount = redis.call('HGET', KEYS[1], 'r:' .. ARGV[2])
if amount then
  held = held - tonumber(amount)
  redis.call('HINCRBY', KEYS[1], 'held', -tonumber(amount))
  redis.call('HDEL', KEYS[1], 'r:' .. ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[2])
end
local spent = tonumber(ARGV[3])
if spent > 0 then
  used = redis.call('HINCRBY', KEYS[1], 'used', spent)
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
end
return { used, held }`;

/** ARGV: now (ms). → { used, held } after dropping expired holds. */
export const STATE = `${PURGE_EXPIRED}
return { used, held }`;
