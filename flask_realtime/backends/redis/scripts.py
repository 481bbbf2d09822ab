"""The Lua scripts of the Redis backend.

Each runs atomically in Redis, so that what a socket's state and a channel's
positions say never depends on the order in which processes got there.

A socket is also indexed, until its key would expire, in a sorted set per
channel it is on (``members:<channel>``) and one per browser session
(``session:<tag>``), scored by that time: :data:`END` finds through them
every socket to end, connected or not, and each set forgets its members as
their times pass and expires with its last one.
"""

# Shared by the scripts that keep the index. ARGV of theirs name the key
# prefix and the socket's digest; ``now`` is Redis's clock, in ms.
_INDEX = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function index(set, digest, deadline, now)
  redis.call('ZADD', set, deadline, digest)
  redis.call('ZREMRANGEBYSCORE', set, '-inf', now)
  local last = redis.call('ZRANGE', set, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', set, last[2])
end
local function index_socket(key, prefix, digest)
  local now = now_ms()
  local deadline = now + redis.call('PTTL', key)
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'c:' then
      index(prefix .. 'members:' .. string.sub(field, 3), digest, deadline, now)
    end
  end
  local tag = redis.call('HGET', key, 's')
  if tag then index(prefix .. 'session:' .. tag, digest, deadline, now) end
end
"""

# KEYS: socket. ARGV: prefix, digest, session tag, connect timeout (ms).
ISSUE = (
    _INDEX
    + """
redis.call('HSET', KEYS[1], 'issued', '1', 's', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
index_socket(KEYS[1], ARGV[1], ARGV[2])
"""
)

# KEYS: socket. ARGV: prefix, digest, lease (ms), owner. 1 if renewed; 0 if
# the socket is gone (ended, or Redis lost it); 2 if it is not this owner's
# any more (detached meanwhile, or taken over): then it is left as it is, or
# a renewal racing a detach would stretch the grace period to a lease.
RENEW = (
    _INDEX
    + """
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  return 2
end
if owner ~= ARGV[4] then return 2 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
index_socket(KEYS[1], ARGV[1], ARGV[2])
return 1
"""
)

# KEYS: socket. ARGV: owner, lease (ms), prefix, digest.
ATTACH = (
    _INDEX
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local previous = redis.call('HGET', KEYS[1], 'owner') or ''
local before = redis.call('HGET', KEYS[1], 'attached') or ''
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'attached', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
index_socket(KEYS[1], ARGV[3], ARGV[4])
return {previous, before, redis.call('HGETALL', KEYS[1])}
"""
)

# KEYS: socket. ARGV: owner, forget ('1' or '0'), grace (ms), prefix, digest.
DETACH = (
    _INDEX
    + """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
else
  redis.call('HDEL', KEYS[1], 'owner')
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  index_socket(KEYS[1], ARGV[4], ARGV[5])
end
return 1
"""
)

# KEYS: socket. ARGV: op, prefix, digest, a new epoch, history TTL (ms),
# most channels per socket, channels. A new subscription records the
# channel's position, so that the socket can be given what is pushed from
# then on even before it connects. -1 if it would pass the limit (and then
# nothing changed).
CHANGE_CHANNELS = (
    _INDEX
    + """
local key, prefix = KEYS[1], ARGV[2]
if redis.call('EXISTS', key) == 0 then return false end
local first = 7
if ARGV[1] == 'add' then
  local count = 0
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'c:' then count = count + 1 end
  end
  for i = first, #ARGV do
    if redis.call('HEXISTS', key, 'c:' .. ARGV[i]) == 0 then count = count + 1 end
  end
  if count > tonumber(ARGV[6]) then return -1 end
end
for i = first, #ARGV do
  local field = 'c:' .. ARGV[i]
  if ARGV[1] == 'add' then
    if redis.call('HEXISTS', key, field) == 0 then
      local pos = prefix .. 'pos:' .. ARGV[i]
      local epoch = redis.call('HGET', pos, 'epoch')
      if not epoch then
        epoch = ARGV[4]
        redis.call('HSET', pos, 'epoch', epoch, 'seq', '0')
      end
      redis.call('PEXPIRE', pos, ARGV[5])
      redis.call('HSET', key, field, epoch .. ':' .. redis.call('HGET', pos, 'seq'))
    end
  else
    redis.call('HDEL', key, field)
    redis.call('ZREM', prefix .. 'members:' .. ARGV[i], ARGV[3])
  end
end
if ARGV[1] == 'add' then index_socket(key, prefix, ARGV[3]) end
return redis.call('HGET', key, 'owner') or ''
"""
)

# ARGV: prefix, then pairs of an index kind ('members' or 'session') and a
# name. Deletes every socket the indexes name that is still on the channel or
# in the session, and returns {digest, owner} of the connected ones, whose
# processes must close them.
END = """
local prefix = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local connected = {}
for i = 2, #ARGV, 2 do
  local set = prefix .. ARGV[i] .. ':' .. ARGV[i + 1]
  for _, digest in ipairs(redis.call('ZRANGEBYSCORE', set, now, '+inf')) do
    local key = prefix .. 'socket:' .. digest
    local still
    if ARGV[i] == 'members' then
      still = redis.call('HEXISTS', key, 'c:' .. ARGV[i + 1]) == 1
    else
      still = redis.call('HGET', key, 's') == ARGV[i + 1]
    end
    if still then
      local owner = redis.call('HGET', key, 'owner')
      redis.call('DEL', key)
      if owner then table.insert(connected, {digest, owner}) end
    end
  end
  redis.call('DEL', set)
end
return connected
"""

# KEYS: position hash, history list. ARGV: envelope head, a new epoch,
# history TTL (ms), history size, pub/sub channel, excluded connection ids
# (comma-separated, usually ""). Positions are given, the frame built, kept
# and published in one step, so every subscriber, here or replaying later,
# sees a channel's pushes in one order. A push with exclusions carries them
# as "x<ids> " before its frame in history and before the newline in the
# published message; frames start with byte 129, never "x".
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
  local excluded = ''
  if ARGV[6] ~= '' then
    excluded = 'x' .. ARGV[6] .. ' '
  end
  redis.call('RPUSH', KEYS[2], seq .. ' ' .. now .. ' ' .. excluded .. frame)
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
local published = position
if ARGV[6] ~= '' then
  published = position .. ' x' .. ARGV[6]
end
redis.call('PUBLISH', ARGV[5], published .. '\\n' .. frame)
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

# KEYS: position hash. ARGV: a new epoch, history TTL (ms). The channel's
# current position, its epoch begun if it has none.
POSITION = """
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return epoch .. ':' .. redis.call('HGET', KEYS[1], 'seq')
"""
