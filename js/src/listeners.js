// Named sets of listener functions: the client keeps one for channels and one
// for its own events. Adding returns the function that removes what was
// added, and a listener that throws does not keep the others from running.
//
//   const listeners = new Listeners()
//   const off = listeners.add("chat", (payload) => show(payload))
//   listeners.emit("chat", { text: "hi" })
//   off()

import adapters from "./adapters.js"

export class Listeners {
  constructor() {
    this.byName = new Map()
  }

  /**
   * Add a listener. The same function added twice is called twice.
   *
   * @param {string} name
   * @param {Function} listener
   * @returns {function(): void} removes this listener; safe to call again
   */
  add(name, listener) {
    if (typeof listener !== "function") {
      throw new TypeError(`The listener for "${name}" must be a function.`)
    }
    // A wrapper per registration, so that removing one of two registrations
    // of the same function removes just that one.
    const entry = { listener }
    let entries = this.byName.get(name)
    if (entries === undefined) {
      entries = new Set()
      this.byName.set(name, entries)
    }
    entries.add(entry)
    return () => {
      const current = this.byName.get(name)
      if (current !== undefined && current.delete(entry) && current.size === 0) {
        this.byName.delete(name)
      }
    }
  }

  /**
   * Call every listener of `name` with `args`, in the order they were added.
   * A listener removed meanwhile is not called; one added is called from the
   * next emit on.
   *
   * @param {string} name
   * @param {...*} args
   * @returns {number} how many listeners were called
   */
  emit(name, ...args) {
    const entries = this.byName.get(name)
    if (entries === undefined) {
      return 0
    }
    const snapshot = Array.from(entries)
    let called = 0
    for (const entry of snapshot) {
      if (!entries.has(entry)) {
        continue
      }
      called += 1
      try {
        entry.listener(...args)
      } catch (error) {
        adapters.reportError(error)
      }
    }
    return called
  }

  /**
   * How many listeners `name` has.
   *
   * @param {string} name
   * @returns {number}
   */
  count(name) {
    const entries = this.byName.get(name)
    return entries === undefined ? 0 : entries.size
  }

  /** Remove every listener. */
  clear() {
    this.byName.clear()
  }
}

export default Listeners
