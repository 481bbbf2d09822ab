"""The Lua scripts of the Redis backend.

Each runs atomically in Redis, so that what a socket's state and a channel's
positions say never depends on the order in which processes got there.
"""

ATTACH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local previous = redis.call('HGET', KEYS[1], 'owner') or ''
local before = redis.call('HGET', KEYS[1], 'attached') or ''
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'attached', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {previous, before, redis.call('HGETALL', KEYS[1])}
"""

DETACH = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
else
  redis.call('HDEL', KEYS[1], 'owner')
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
"""

# ARGV: op, prefix of position keys, a new epoch, history TTL (ms), channels.
# A new subscription records the channel's position, so that the socket can
# be given what is pushed from then on even before it connects.
CHANGE_CHANNELS = """
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return false end
for i = 5, #ARGV do
  local field = 'c:' .. ARGV[i]
  if ARGV[1] == 'add' then
    if redis.call('HEXISTS', key, field) == 0 then
      local pos = ARGV[2] .. ARGV[i]
      local epoch = redis.call('HGET', pos, 'epoch')
      if not epoch then
        epoch = ARGV[3]
        redis.call('HSET', pos, 'epoch', epoch, 'seq', '0')
      end
      redis.call('PEXPIRE', pos, ARGV[4])
      redis.call('HSET', key, field, epoch .. ':' .. redis.call('HGET', pos, 'seq'))
    end
  else
    redis.call('HDEL', key, field)
  end
end
return redis.call('HGET', key, 'owner') or ''
"""

# KEYS: position hash, history list. ARGV: envelope head, a new epoch,
# history TTL (ms), history size, pub/sub channel. Positions are given, the
# frame built, kept and published in one step, so every subscriber, here or
# replaying later, sees a channel's pushes in one order.
PUBLISH = """
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local position = epoch .. ':' .. seq
local text = ARGV[1] .. ',"position":"' .. position .. '"}'
local n = string.len(text)
local header
if n < 126 then
  header = string.char(129, n)
elseif n < 65536 then
  header = string.char(129, 126, math.floor(n / 256), n % 256)
else
  header = string.char(129, 127, 0, 0, 0, 0, math.floor(n / 16777216) % 256,
    math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end
local frame = header .. text
if tonumber(ARGV[4]) > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('RPUSH', KEYS[2], seq .. ' ' .. now .. ' ' .. frame)
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
redis.call('PUBLISH', ARGV[5], position .. '\\n' .. frame)
return position
"""

# KEYS: position hash, history list. ARGV: a new epoch, history TTL (ms).
HISTORY = """
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entries = redis.call('LRANGE', KEYS[2], 0, -1)
return {epoch, redis.call('HGET', KEYS[1], 'seq'), now, entries}
"""
