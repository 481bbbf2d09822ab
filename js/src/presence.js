// Who is on each channel, kept from the server's presence frames (see
// docs/protocol.rst, "Presence"): the whole state, which the server sends
// when the socket attaches and when it is subscribed to a channel, then the
// joins and leaves. The client keeps one of these; a page reads it through
// `realtime.presence(channel)` and `realtime.onPresence(channel, fn)`.
//
//   const presences = new Presences()
//   presences.on("room", (list, { joins, leaves }) => render(list))
//   presences.receive({ channel: "room", presence_state: { ann: [{ ref: "r1", meta: {} }] } })
//   presences.list("room")  // { ann: [{}] }
//
// Each socket tracked on a channel has a `ref`: a join with a ref already
// listed replaces its meta (the page tracked it again); a leave of a ref not
// listed changes nothing. After a reconnect, the server sends the state of
// every channel that still has members before anything else; the lists of
// the others empty once the socket's first reply shows the attach is done.

import { Listeners } from "./listeners.js"

/**
 * A channel's members: each key (a user id, say) with the metas of its
 * sockets, one per tab.
 *
 * @template [M=unknown]
 * @typedef {Record<string, M[]>} PresenceList
 */

/**
 * What changed, by key: the metas that joined (including a socket's new
 * meta when it is tracked again) and those that left.
 *
 * @template [M=unknown]
 * @typedef {{joins: PresenceList<M>, leaves: PresenceList<M>}} PresenceChange
 */

export class Presences {
  constructor() {
    // channel -> key -> ref -> meta; a channel without members has no entry.
    /** @type {Map<string, Map<string, Map<string, unknown>>>} */
    this.channels = new Map()
    this.listeners = new Listeners()
    // Channels whose lists came before a reconnect, until the server's new
    // state replaces them, or the attach is over and no state came.
    /** @type {Set<string>} */
    this.stale = new Set()
  }

  /**
   * A channel's members, as a new object.
   *
   * @param {string} channel
   * @returns {PresenceList}
   */
  list(channel) {
    const list = {}
    for (const [key, refs] of this.channels.get(channel) ?? []) {
      define(list, key, Array.from(refs.values()))
    }
    return list
  }

  /**
   * Call `listener(list, change)` on each state and change of a channel.
   *
   * @param {string} channel
   * @param {Function} listener
   * @returns {() => void} removes the listener
   */
  on(channel, listener) {
    return this.listeners.add(channel, listener)
  }

  /**
   * Take a frame if it is a presence frame.
   *
   * @param {{channel: string, [field: string]: unknown}} frame
   * @returns {boolean} whether it was one
   */
  receive(frame) {
    if (isObject(frame.presence_state)) {
      this.replace(frame.channel, frame.presence_state)
    } else if (isObject(frame.presence)) {
      const { joins, leaves } = /** @type {Record<string, unknown>} */ (frame.presence)
      this.change(frame.channel, joins, leaves)
    } else {
      return false
    }
    return true
  }

  /** The socket reconnected: every list is stale until the server says. */
  reconnected() {
    this.stale = new Set(this.channels.keys())
  }

  /** The socket is attached: a stale list whose channel got no state is empty. */
  attached() {
    for (const channel of this.stale) {
      this.replace(channel, {})
    }
  }

  // Private

  /** @private */
  replace(channel, state) {
    this.stale.delete(channel)
    const change = { joins: {}, leaves: {} }
    const next = new Map()
    for (const [key, ref, meta] of entries(state)) {
      if (!next.has(key)) {
        next.set(key, new Map())
      }
      next.get(key).set(ref, meta)
    }
    for (const [key, refs] of this.channels.get(channel) ?? []) {
      for (const [ref, meta] of refs) {
        if (!next.get(key)?.has(ref)) {
          add(change.leaves, key, meta)
        }
      }
    }
    const current = this.channels.get(channel)
    for (const [key, refs] of next) {
      for (const [ref, meta] of refs) {
        if (!sameMeta(current?.get(key), ref, meta)) {
          add(change.joins, key, meta)
        }
      }
    }
    if (next.size > 0) {
      this.channels.set(channel, next)
    } else {
      this.channels.delete(channel)
    }
    this.emit(channel, change)
  }

  /** @private */
  change(channel, joins, leaves) {
    if (this.stale.has(channel)) {
      // No state came for it: it had no members when the socket attached.
      this.replace(channel, {})
    }
    const change = { joins: {}, leaves: {} }
    const lists = this.channels.get(channel) ?? new Map()
    for (const [key, ref, meta] of entries(joins)) {
      if (!lists.has(key)) {
        lists.set(key, new Map())
      }
      if (!sameMeta(lists.get(key), ref, meta)) {
        lists.get(key).set(ref, meta)
        add(change.joins, key, meta)
      }
    }
    for (const [key, ref] of entries(leaves)) {
      const refs = lists.get(key)
      if (refs?.has(ref)) {
        add(change.leaves, key, refs.get(ref))
        refs.delete(ref)
        if (refs.size === 0) {
          lists.delete(key)
        }
      }
    }
    if (lists.size > 0) {
      this.channels.set(channel, lists)
    } else {
      this.channels.delete(channel)
    }
    this.emit(channel, change)
  }

  /** @private */
  emit(channel, change) {
    if (this.listeners.count(channel) > 0) {
      this.listeners.emit(channel, this.list(channel), change)
    }
  }
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value)
}

// [key, ref, meta] of each well-formed entry of a `{key: [{ref, meta}]}`
// object; whatever else a broken server sends is skipped.
function* entries(byKey) {
  if (!isObject(byKey)) {
    return
  }
  for (const [key, list] of Object.entries(byKey)) {
    if (!Array.isArray(list)) {
      continue
    }
    for (const entry of list) {
      if (isObject(entry) && typeof entry.ref === "string") {
        yield [key, entry.ref, entry.meta ?? null]
      }
    }
  }
}

function sameMeta(refs, ref, meta) {
  return refs !== undefined && refs.has(ref) &&
    JSON.stringify(refs.get(ref)) === JSON.stringify(meta)
}

// As own properties, whatever the key: "__proto__" included.
function define(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
}

function add(list, key, meta) {
  if (!Object.prototype.hasOwnProperty.call(list, key)) {
    define(list, key, [])
  }
  list[key].push(meta)
}

export default Presences
