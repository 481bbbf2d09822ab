"""The Lua scripts of the Redis backend.

Each runs atomically in Redis, so that what a socket's state and a channel's
positions say never depends on the order in which processes got there.

Each touches the keys of one Redis Cluster slot (see the key layout in
``backend.py``): the sockets' state, under the hash tag ``{sockets}``, or
one channel's position and history, under the channel's tag. On a cluster
they run with a ``#!lua`` line, which makes Redis refuse any key of another
slot, and presence changes are returned rather than published (see
:func:`source`).

A socket is also indexed, until its key would expire, in a sorted set per
channel it is on (``members:<channel>``) and one per browser session
(``session:<tag>``), scored by that time: :data:`END` finds through them
every socket to end, connected or not, and each set forgets its members as
their times pass and expires with its last one.

Presence: a socket tracked on a channel has a field ``p:<channel>`` (its
ref) in its hash, and an entry in the channel's hash
``presence:<channel>``, under its digest: the key's JSON, a newline, and
``{"ref": ..., "meta": ...}``. That hash outlives the socket key of its
longest-lived member by :data:`PRESENCE_MARGIN_MS`, time for a listener to
announce its leave: every script that sets a tracked socket's expiry
stretches it. A change is published on the channel's pub/sub
channel as ``p`` and a newline before the frame's JSON (a push starts with
its position, which has a ``:``). Whoever reads a channel's presence
(:data:`PRESENCE`) takes out, and announces the leave of, members whose
socket key is gone: expired or lost.
"""

#: How long a channel's presence hash outlives the socket keys of its
#: members (ms). Listeners read it every REALTIME_PING_INTERVAL at most, and
#: announce the leaves of members whose key expired; after that, a hash
#: nobody watches goes too.
PRESENCE_MARGIN_MS = 5 * 60 * 1000

_MARGIN = f"local PRESENCE_MARGIN = {PRESENCE_MARGIN_MS}\n"

# Before every script: key names, and presence changes to announce.
# ``state`` names a key of the sockets' state, ``pubsub`` a channel's pub/sub
# channel (see backend.py). A script that announces presence changes returns
# ``finish(result)``: the result, and what a cluster's caller must publish.
_HEADER = """
local function state(prefix, kind, name)
  return prefix .. '{sockets}:' .. kind .. ':' .. name
end
local function pubsub(prefix, channel)
  return prefix .. 'channel:{#' .. channel .. '}'
end
local ANNOUNCED = {}
local function finish(result)
  return {result, ANNOUNCED}
end
"""


def source(script: str, *, sharded: bool, failover: bool) -> str:
    """A script as it is sent to Redis. ``sharded`` (a Redis Cluster): with
    ``#!lua``, so that Redis refuses keys of another slot; pushes go out with
    SPUBLISH; and presence changes, which concern another slot than the
    sockets' state, are returned for the caller to publish. ``failover``
    (replicas that may be promoted): a channel's epoch ends when another
    master holds it (see ``_EPOCH``)."""
    flags = (
        f"local SHARDED = {'true' if sharded else 'false'}\n"
        f"local FAILOVER = {'true' if failover else 'false'}\n"
    )
    return ("#!lua\n" if sharded else "") + flags + _HEADER + script


# Shared by the scripts that keep the index. ARGV of theirs name the key
# prefix and the socket's digest; ``now`` is Redis's clock, in ms.
_INDEX = (
    _MARGIN
    + """
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
    local kind = string.sub(field, 1, 2)
    if kind == 'c:' then
      index(state(prefix, 'members', string.sub(field, 3)), digest, deadline, now)
    elseif kind == 'p:' then
      local set = state(prefix, 'presence', string.sub(field, 3))
      if redis.call('PTTL', set) < deadline - now + PRESENCE_MARGIN then
        redis.call('PEXPIREAT', set, deadline + PRESENCE_MARGIN)
      end
    end
  end
  local tag = redis.call('HGET', key, 's')
  if tag then index(state(prefix, 'session', tag), digest, deadline, now) end
end
"""
)

# Shared by the scripts that change presence: tell a channel's subscribers
# that members (stored values, see above) joined or left.
_PRESENCE = """
local function grouped(values)
  local order, groups = {}, {}
  for _, value in ipairs(values) do
    local newline = string.find(value, '\\n', 1, true)
    local key = string.sub(value, 1, newline - 1)
    if not groups[key] then
      groups[key] = {}
      table.insert(order, key)
    end
    table.insert(groups[key], string.sub(value, newline + 1))
  end
  local parts = {}
  for _, key in ipairs(order) do
    table.insert(parts, key .. ':[' .. table.concat(groups[key], ',') .. ']')
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
local function announce(prefix, channel, joins, leaves)
  local message = 'p\\n{"channel":' .. cjson.encode(channel)
    .. ',"presence":{"joins":' .. grouped(joins) .. ',"leaves":'
    .. grouped(leaves) .. '}}'
  if SHARDED then
    table.insert(ANNOUNCED, pubsub(prefix, channel))
    table.insert(ANNOUNCED, message)
  else
    redis.call('PUBLISH', pubsub(prefix, channel), message)
  end
end
local function leave(prefix, digest, channel)
  local set = state(prefix, 'presence', channel)
  local value = redis.call('HGET', set, digest)
  if value then
    redis.call('HDEL', set, digest)
    announce(prefix, channel, {}, {value})
  end
end
local function leave_all(key, prefix, digest)
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'p:' then
      leave(prefix, digest, string.sub(field, 3))
    end
  end
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
    + _PRESENCE
    + """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return finish(0) end
if ARGV[2] == '1' then
  leave_all(KEYS[1], ARGV[4], ARGV[5])
  redis.call('DEL', KEYS[1])
else
  redis.call('HDEL', KEYS[1], 'owner')
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  index_socket(KEYS[1], ARGV[4], ARGV[5])
end
return finish(1)
"""
)

# KEYS: socket. ARGV: op, prefix, digest, most channels per socket, then
# channels, each followed by its position ("" to remove). A new
# subscription records the channel's position, read just before (a
# channel's keys are in another slot), so that the socket can be given what
# is pushed from then on even before it connects. finish(-1) if it would
# pass the limit (and then nothing changed).
CHANGE_CHANNELS = (
    _INDEX
    + _PRESENCE
    + """
local key, prefix = KEYS[1], ARGV[2]
if redis.call('EXISTS', key) == 0 then return finish(false) end
local first = 5
if ARGV[1] == 'add' then
  local count = 0
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'c:' then count = count + 1 end
  end
  for i = first, #ARGV, 2 do
    if redis.call('HEXISTS', key, 'c:' .. ARGV[i]) == 0 then count = count + 1 end
  end
  if count > tonumber(ARGV[4]) then return finish(-1) end
end
for i = first, #ARGV, 2 do
  local field = 'c:' .. ARGV[i]
  if ARGV[1] == 'add' then
    if redis.call('HEXISTS', key, field) == 0 then
      redis.call('HSET', key, field, ARGV[i + 1])
    end
  else
    redis.call('HDEL', key, field)
    redis.call('ZREM', state(prefix, 'members', ARGV[i]), ARGV[3])
    if redis.call('HDEL', key, 'p:' .. ARGV[i]) == 1 then
      leave(prefix, ARGV[3], ARGV[i])
    end
  end
end
if ARGV[1] == 'add' then index_socket(key, prefix, ARGV[3]) end
return finish(redis.call('HGET', key, 'owner') or '')
"""
)

# KEYS: any key of the sockets' slot (it routes the script on a cluster).
# ARGV: prefix, then pairs of an index kind ('members' or 'session') and a
# name. Deletes every socket the indexes name that is still on the channel or
# in the session, and returns {digest, owner} of the connected ones, whose
# processes must close them.
END = (
    _PRESENCE
    + """
local prefix = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local connected = {}
for i = 2, #ARGV, 2 do
  local set = state(prefix, ARGV[i], ARGV[i + 1])
  for _, digest in ipairs(redis.call('ZRANGEBYSCORE', set, now, '+inf')) do
    local key = state(prefix, 'socket', digest)
    local still
    if ARGV[i] == 'members' then
      still = redis.call('HEXISTS', key, 'c:' .. ARGV[i + 1]) == 1
    else
      still = redis.call('HGET', key, 's') == ARGV[i + 1]
    end
    if still then
      local owner = redis.call('HGET', key, 'owner')
      leave_all(key, prefix, digest)
      redis.call('DEL', key)
      if owner then table.insert(connected, {digest, owner}) end
    end
  end
  redis.call('DEL', set)
end
return finish(connected)
"""
)

# The epoch of a channel (KEYS[1], its position hash), begun if it has none,
# with a new epoch and the history TTL. With FAILOVER, also when the master
# that holds it is not the one that began it (Redis's replication id
# changes when a replica is promoted): the replica may lack the last pushes
# of its master, whose positions would then be given to other pushes, and
# a page that reconnects from one of them would skip those without a word.
_EPOCH = """
local function epoch_of(pos, new_epoch, ttl)
  local epoch = redis.call('HGET', pos, 'epoch')
  if FAILOVER then
    local info = redis.call('INFO', 'replication')
    local replid = string.match(info, 'master_replid:(%w+)') or ''
    if redis.call('HGET', pos, 'replid') ~= replid then
      epoch = false
      redis.call('HSET', pos, 'replid', replid)
    end
  end
  if not epoch then
    epoch = new_epoch
    redis.call('HSET', pos, 'epoch', epoch)
    redis.call('HSETNX', pos, 'seq', '0')
    redis.call('PEXPIRE', pos, ttl)
  end
  return epoch
end
"""

# KEYS: position hash, history list. ARGV: envelope head, a new epoch,
# history TTL (ms), history size, pub/sub channel, excluded connection ids
# (comma-separated, usually ""). Positions are given, the frame built, kept
# and published in one step, so every subscriber, here or replaying later,
# sees a channel's pushes in one order. A push with exclusions carries them
# as "x<ids> " before its frame in history and before the newline in the
# published message; frames start with byte 129, never "x".
PUBLISH = (
    _EPOCH
    + """
local epoch = epoch_of(KEYS[1], ARGV[2], ARGV[3])
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
redis.call(SHARDED and 'SPUBLISH' or 'PUBLISH', ARGV[5], published .. '\\n' .. frame)
return position
"""
)

# KEYS: position hash, history list. ARGV: a new epoch, history TTL (ms).
HISTORY = (
    _EPOCH
    + """
local epoch = epoch_of(KEYS[1], ARGV[1], ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entries = redis.call('LRANGE', KEYS[2], 0, -1)
return {epoch, redis.call('HGET', KEYS[1], 'seq'), now, entries}
"""
)

# KEYS: position hash. ARGV: a new epoch, history TTL (ms). The channel's
# current position, its epoch begun if it has none.
POSITION = (
    _EPOCH
    + """
local epoch = epoch_of(KEYS[1], ARGV[1], ARGV[2])
return epoch .. ':' .. redis.call('HGET', KEYS[1], 'seq')
"""
)

# KEYS: position hash. ARGV: the epoch whose history went back on what was
# delivered (see history.replay), a new epoch, history TTL (ms). Begins the
# new epoch, unless another process did first; so every position of the old
# one, in any client, gets a gap rather than a replay. Returns the position.
NEW_EPOCH = (
    _EPOCH
    + """
local epoch = epoch_of(KEYS[1], ARGV[2], ARGV[3])
if epoch == ARGV[1] then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
return epoch .. ':' .. redis.call('HGET', KEYS[1], 'seq')
"""
)

# KEYS: socket, the channel's presence hash. ARGV: prefix, digest, channel,
# key (JSON), meta (JSON), a new ref. 1 if tracked; 0 if the socket is gone;
# -1 if it is not subscribed to the channel. Tracked again under the same
# key, the socket keeps its ref; under another, it leaves the old key and
# joins with the new ref. Nothing is announced when nothing changed.
TRACK = (
    _PRESENCE
    + _MARGIN
    + """
local key, set, channel = KEYS[1], KEYS[2], ARGV[3]
if redis.call('EXISTS', key) == 0 then return finish(0) end
if redis.call('HEXISTS', key, 'c:' .. channel) == 0 then return finish(-1) end
local old = redis.call('HGET', set, ARGV[2])
local ref = redis.call('HGET', key, 'p:' .. channel)
local leaves = {}
if old and string.sub(old, 1, #ARGV[4] + 1) ~= ARGV[4] .. '\\n' then
  leaves = {old}
  ref = false
end
ref = ref or ARGV[6]
local value = ARGV[4] .. '\\n{"ref":"' .. ref .. '","meta":' .. ARGV[5] .. '}'
if value == old then return finish(1) end
redis.call('HSET', key, 'p:' .. channel, ref)
redis.call('HSET', set, ARGV[2], value)
local ttl = redis.call('PTTL', key) + PRESENCE_MARGIN
if redis.call('PTTL', set) < ttl then redis.call('PEXPIRE', set, ttl) end
announce(ARGV[1], channel, {value}, leaves)
return finish(1)
"""
)

# KEYS: socket. ARGV: prefix, digest, channel.
UNTRACK = (
    _PRESENCE
    + """
if redis.call('HDEL', KEYS[1], 'p:' .. ARGV[3]) == 1 then
  leave(ARGV[1], ARGV[2], ARGV[3])
end
return finish(0)
"""
)

# KEYS: presence hashes. ARGV: prefix, then the channel of each hash. The
# members of each channel, as stored, once those whose socket key is gone
# (its time ran out: connect timeout, grace, or a dead process's lease) are
# taken out and their leaves announced. Listeners run it for the channels
# their sockets watch, so that leaves come without anyone asking.
PRESENCE = (
    _PRESENCE
    + """
local prefix = ARGV[1]
local found = {}
for i, set in ipairs(KEYS) do
  local kept, gone = {}, {}
  local fields = redis.call('HGETALL', set)
  for j = 1, #fields, 2 do
    if redis.call('EXISTS', state(prefix, 'socket', fields[j])) == 1 then
      table.insert(kept, fields[j + 1])
    else
      redis.call('HDEL', set, fields[j])
      table.insert(gone, fields[j + 1])
    end
  end
  if #gone > 0 then announce(prefix, ARGV[i + 1], {}, gone) end
  found[i] = kept
end
return finish(found)
"""
)
