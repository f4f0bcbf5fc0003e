import { SAME_WINDOW_SLACK_MS } from './window-leases';
import { RECLAIMED_SLOTS_MS } from './slot-blocks';

// The Lua scripts of RedisCombinedChecks (combined-checks.ts): what runs inside Redis, kept apart
// from the code that builds their KEYS and ARGV and reads their replies. Each script's comment is
// its contract with that code.

/**
 * Block sizing: a node leases at most (what is left) / (LEASE_SPREAD × nodes that leased in the
 * last lease TTL). With 2, the nodes together hold at most about half of what is left, so a node
 * whose traffic grows still finds units in Redis while the others' blocks last.
 */
const LEASE_SPREAD = 2;
/** Smaller blocks save too little to be worth a reclaim: below this the window is checked per call. */
export const MIN_LEASE_BLOCK = 2;
/** The field of a holders hash that marks its window reclaimed; never a node id (those are hex). */
const RECLAIM_FLAG = '!reclaimed';
/** Values per window in the script's ARGV. */
const WINDOW_ARGS = 7;
/** Values per lease set in the script's ARGV. */
const SET_ARGS = 3;

/**
 * All of a check in one EVALSHA: a request's per-minute windows (key, then tenant), or a tool
 * call's per-minute windows, monthly quota and in-flight lease (key and tenant sets); plus the
 * releases of this node's finished calls that are waiting to be sent, and with leases the units
 * this node hands back and the blocks it takes. Measured against one rate-limiter-flexible EVALSHA
 * per window and one lease script (docs/decisions.md): the CPU of a Redis command is mostly
 * ioredis's per-command work, so one command instead of two to four is what saves it.
 *
 * Every check is decided before anything is consumed: a check refused by any window or lease set
 * spends no other window, quota or slot (a refused tool call must not use up the minute's
 * budget, nor a key's window when its tenant's refuses). Then all windows take their units (plus
 * a leased block) and all sets the lease. The windows are rate-limiter-flexible's keys, counted as
 * its script does (SET NX EX, INCRBY, PTTL, EXPIRE if the TTL was lost), so nodes on either code
 * share one budget; this script only reads a window it does not consume. A leased block counts in
 * the window at once, so the cluster never admits past the limit; `<window>:held` (node → units
 * granted and not yet handed back) says who may still hold some, and a refusal while others hold
 * publishes the window on the reclaim channel so they give them back.
 *
 * KEYS: windows, their holders hashes, the set of leasing nodes, lease sets, their blocks hashes,
 *       their reclaimed flags, sets to release from.
 * ARGV: #windows, #lease sets, lease TTL ms, lease member, node id, reclaim channel, returned channel,
 *       block field ('' without slot blocks: the call is a member of its own), then per window
 *       (limit, window seconds, units, max block or 0, units returned, units settled, window end
 *       of the returned block), per lease set (limit, slots wanted (0 or 1), max block or 0), a
 *       member per set to release from.
 * Reply: admitted {0, 0, then per window count, pttl, block granted, window end, then per lease set
 * the slots granted besides the call's own and how long the set stays reclaimed (ms, 0 if not)}; window `index` refused {1, index, count before, pttl,
 * then the ids of the other nodes holding blocks of it}; lease set `index` full {2, index, asked,
 * then the other nodes holding blocks of it}, `asked` 1 when this refusal asked them for their idle
 * slots (a reclaim of the set, see SlotBlocks). A refusal with holders marks the window reclaimed (field
 * RECLAIM_FLAG of its holders hash): no more blocks of it until it resets, so blocks granted to
 * checks in flight cannot keep the asking node waiting.
 */
export const COMBINED_CHECK_SCRIPT = `
local nw = tonumber(ARGV[1])
local nl = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local member = ARGV[4]
local node = ARGV[5]
local field = ARGV[8]
local W = ${WINDOW_ARGS}
local S = ${SET_ARGS}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 2 * nw + 3 * nl + 2, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[8 + W * nw + S * nl + i - (2 * nw + 3 * nl + 1)])
end
local leasing = false
for j = 1, nl do
  if tonumber(ARGV[8 + W * nw + S * (j - 1) + 3]) > 0 then leasing = true end
end
for i = 1, nw do
  local a = 8 + W * (i - 1)
  if tonumber(ARGV[a + 4]) > 0 then leasing = true end
  local ret = tonumber(ARGV[a + 5])
  local back = ret + tonumber(ARGV[a + 6])
  if back > 0 then
    local pttl = redis.call('PTTL', KEYS[i])
    -- Only into the window the block came from: a new window starts at least its length later.
    if pttl > 0 and math.abs(now + pttl - tonumber(ARGV[a + 7])) <= ${SAME_WINDOW_SLACK_MS} then
      if ret > 0 then redis.call('DECRBY', KEYS[i], ret) end
      if redis.call('HINCRBY', KEYS[nw + i], node, -back) <= 0 then
        redis.call('HDEL', KEYS[nw + i], node)
        -- A node asked to give this window back may be waiting for exactly this.
        if redis.call('HEXISTS', KEYS[nw + i], '${RECLAIM_FLAG}') == 1 then redis.call('PUBLISH', ARGV[7], node .. ' ' .. KEYS[i]) end
      end
    end
  end
end
local used = {}
for i = 1, nw do
  local a = 8 + W * (i - 1)
  local current = redis.call('GET', KEYS[i])
  used[i] = current and tonumber(current) or false
  local before = used[i] or 0
  local units = tonumber(ARGV[a + 3])
  if units > 0 and before + units > tonumber(ARGV[a + 1]) then
    local seconds = ARGV[a + 2]
    local pttl = redis.call('PTTL', KEYS[i])
    if pttl == -1 then redis.call('EXPIRE', KEYS[i], seconds) end
    if pttl < 0 then pttl = 1000 * tonumber(seconds) end
    local refusal = {1, i, before, pttl}
    for _, holder in ipairs(redis.call('HKEYS', KEYS[nw + i])) do
      if holder ~= node and holder ~= '${RECLAIM_FLAG}' then table.insert(refusal, holder) end
    end
    if #refusal > 4 then
      -- No more blocks of this window for anyone until it resets, and the holders hand theirs back.
      -- Asked once per window: the holders then are all there will be, as no block is granted after.
      if redis.call('HSETNX', KEYS[nw + i], '${RECLAIM_FLAG}', 1) == 1 then redis.call('PUBLISH', ARGV[6], KEYS[i]) end
    end
    return refusal
  end
end
-- In-flight caps: per-call members count one slot each, a node's block member (b:<field>) as
-- many slots as its entry in the set's blocks hash says; entries whose member expired are dropped.
local setCount = {}
for j = 1, nl do
  local s = 8 + W * nw + S * (j - 1)
  local units = tonumber(ARGV[s + 2])
  if units > 0 or tonumber(ARGV[s + 3]) > 0 then
    local set, blocks = KEYS[2 * nw + 1 + j], KEYS[2 * nw + 1 + nl + j]
    redis.call('ZREMRANGEBYSCORE', set, '-inf', now)
    local count = redis.call('ZCARD', set)
    local holders = {}
    local flat = redis.call('HGETALL', blocks)
    for k = 1, #flat, 2 do
      if redis.call('ZSCORE', set, 'b:' .. flat[k]) then
        local size = tonumber(flat[k + 1])
        count = count - 1 + size
        local owner = string.match(flat[k], '^[^:]+')
        if owner ~= node and size > 0 then table.insert(holders, owner) end
      else
        redis.call('HDEL', blocks, flat[k])
      end
    end
    if field == '' and redis.call('ZSCORE', set, member) then units = 0 end
    if units > 0 and count + units > tonumber(ARGV[s + 1]) then
      local refusal = {2, j, 0}
      if field ~= '' and #holders > 0 then
        -- Idle slots of other nodes' blocks go back to Redis; no new blocks of this set meanwhile.
        if redis.call('SET', KEYS[2 * nw + 1 + 2 * nl + j], 1, 'PX', ${RECLAIMED_SLOTS_MS}, 'NX') then
          redis.call('PUBLISH', ARGV[6], set)
          refusal[3] = 1
        end
        for _, holder in ipairs(holders) do table.insert(refusal, holder) end
      end
      return refusal
    end
    setCount[j] = count
  end
end
local nodes = 1
if leasing then
  local nodesKey = KEYS[2 * nw + 1]
  redis.call('ZADD', nodesKey, now + ttl, node)
  redis.call('ZREMRANGEBYSCORE', nodesKey, '-inf', now)
  redis.call('PEXPIRE', nodesKey, ttl)
  nodes = redis.call('ZCARD', nodesKey)
end
local reply = {0, 0}
for i = 1, nw do
  local a = 8 + W * (i - 1)
  local key = KEYS[i]
  local seconds = ARGV[a + 2]
  local units = tonumber(ARGV[a + 3])
  local maxBlock = tonumber(ARGV[a + 4])
  local before = used[i] or 0
  local extra = 0
  if maxBlock > 0 and redis.call('HEXISTS', KEYS[nw + i], '${RECLAIM_FLAG}') == 0 then
    extra = math.floor((tonumber(ARGV[a + 1]) - before - units) / (${LEASE_SPREAD} * nodes))
    if extra > maxBlock then extra = maxBlock end
    if extra < ${MIN_LEASE_BLOCK} then extra = 0 end
  end
  local take = units + extra
  local count, pttl = before, 1000 * tonumber(seconds)
  if take > 0 and used[i] then
    count = redis.call('INCRBY', key, take)
    pttl = redis.call('PTTL', key)
    if pttl == -1 then
      redis.call('EXPIRE', key, seconds)
      pttl = 1000 * tonumber(seconds)
    end
  elseif take > 0 then
    redis.call('SET', key, take, 'EX', seconds)
    count = take
  elseif used[i] then
    pttl = redis.call('PTTL', key)
    if pttl < 0 then pttl = 1000 * tonumber(seconds) end
  end
  if extra > 0 then
    redis.call('HINCRBY', KEYS[nw + i], node, extra)
    redis.call('PEXPIRE', KEYS[nw + i], pttl)
  end
  reply[4 * i - 1] = count
  reply[4 * i] = pttl
  reply[4 * i + 1] = extra
  reply[4 * i + 2] = (take > 0 or used[i]) and now + pttl or 0
end
for j = 1, nl do
  local set, blocks = KEYS[2 * nw + 1 + j], KEYS[2 * nw + 1 + nl + j]
  local s = 8 + W * nw + S * (j - 1)
  local units, maxExtra = tonumber(ARGV[s + 2]), tonumber(ARGV[s + 3])
  local extra, reclaimedMs = 0, 0
  if field == '' then
    redis.call('ZADD', set, now + ttl, member)
    redis.call('PEXPIRE', set, ttl)
  elseif units > 0 or maxExtra > 0 then
    -- While the set is reclaimed the node checks it per call, and each call's slot goes back when it ends.
    reclaimedMs = redis.call('PTTL', KEYS[2 * nw + 1 + 2 * nl + j])
    if reclaimedMs == -2 then reclaimedMs = 0 elseif reclaimedMs == -1 then reclaimedMs = ${RECLAIMED_SLOTS_MS} end
    if maxExtra > 0 and reclaimedMs == 0 then
      extra = math.floor((tonumber(ARGV[s + 1]) - setCount[j] - units) / (${LEASE_SPREAD} * nodes))
      if extra > maxExtra then extra = maxExtra end
      if extra < ${MIN_LEASE_BLOCK} then extra = 0 end
    end
    if units + extra > 0 then
      redis.call('HINCRBY', blocks, field, units + extra)
      redis.call('ZADD', set, now + ttl, 'b:' .. field)
      redis.call('PEXPIRE', set, ttl)
      redis.call('PEXPIRE', blocks, ttl)
    end
  end
  reply[4 * nw + 1 + 2 * j] = extra
  reply[4 * nw + 2 + 2 * j] = reclaimedMs
end
return reply
`;

// KEYS: sets; ARGV: the member to remove from each, in the same order.
export const RELEASE_BATCH_SCRIPT = `
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[i]) end
return 0
`;

/**
 * A node gives blocks back: asked by another node's refusal, or before closing.
 * KEYS: windows, then their holders hashes. ARGV: node id, returned channel, then per window
 * (units returned, units settled, window end of the block). Tells the returned channel
 * "<node> <window>" per window, which the refused node is waiting for.
 */
export const RETURN_BLOCKS_SCRIPT = `
local nw = #KEYS / 2
local node = ARGV[1]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 1, nw do
  local ret = tonumber(ARGV[3 * i])
  local back = ret + tonumber(ARGV[3 * i + 1])
  local pttl = redis.call('PTTL', KEYS[i])
  if back > 0 and pttl > 0 and math.abs(now + pttl - tonumber(ARGV[3 * i + 2])) <= ${SAME_WINDOW_SLACK_MS} then
    if ret > 0 then redis.call('DECRBY', KEYS[i], ret) end
    if redis.call('HINCRBY', KEYS[nw + i], node, -back) <= 0 then redis.call('HDEL', KEYS[nw + i], node) end
  end
  redis.call('PUBLISH', ARGV[2], node .. ' ' .. KEYS[i])
end
return 0
`;

/**
 * A node's slot blocks: renews them, hands slots back, answers a reclaim.
 * KEYS: lease sets, then their blocks hashes. ARGV: lease TTL ms, node id, block field, returned
 * channel, 1 to answer a reclaim on the returned channel ("<node> <set>" per set), then per set
 * the slots handed back. A block handed back whole leaves the set; the others are renewed.
 */
export const SLOT_BLOCKS_SCRIPT = `
local n = #KEYS / 2
local ttl = tonumber(ARGV[1])
local field = ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 1, n do
  local set, blocks = KEYS[i], KEYS[n + i]
  local size = redis.call('HGET', blocks, field)
  if size and redis.call('ZSCORE', set, 'b:' .. field) then
    size = tonumber(size) - tonumber(ARGV[5 + i])
    if size <= 0 then
      redis.call('HDEL', blocks, field)
      redis.call('ZREM', set, 'b:' .. field)
    else
      redis.call('HSET', blocks, field, size)
      redis.call('ZADD', set, now + ttl, 'b:' .. field)
      redis.call('PEXPIRE', set, ttl)
      redis.call('PEXPIRE', blocks, ttl)
    end
  end
  if ARGV[5] == '1' then redis.call('PUBLISH', ARGV[4], ARGV[2] .. ' ' .. set) end
end
return 0
`;
