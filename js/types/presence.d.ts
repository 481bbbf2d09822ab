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
    /** @type {Map<string, Map<string, Map<string, unknown>>>} */
    channels: Map<string, Map<string, Map<string, unknown>>>;
    listeners: Listeners;
    /** @type {Set<string>} */
    stale: Set<string>;
    /**
     * A channel's members, as a new object.
     *
     * @param {string} channel
     * @returns {PresenceList}
     */
    list(channel: string): PresenceList;
    /**
     * Call `listener(list, change)` on each state and change of a channel.
     *
     * @param {string} channel
     * @param {Function} listener
     * @returns {() => void} removes the listener
     */
    on(channel: string, listener: Function): () => void;
    /**
     * Take a frame if it is a presence frame.
     *
     * @param {{channel: string, [field: string]: unknown}} frame
     * @returns {boolean} whether it was one
     */
    receive(frame: {
        channel: string;
        [field: string]: unknown;
    }): boolean;
    /** The socket reconnected: every list is stale until the server says. */
    reconnected(): void;
    /** The socket is attached: a stale list whose channel got no state is empty. */
    attached(): void;
    /** @private */
    private replace;
    /** @private */
    private change;
    /** @private */
    private emit;
}
export default Presences;
/**
 * A channel's members: each key (a user id, say) with the metas of its
 * sockets, one per tab.
 */
export type PresenceList<M = unknown> = Record<string, M[]>;
/**
 * What changed, by key: the metas that joined (including a socket's new
 * meta when it is tracked again) and those that left.
 */
export type PresenceChange<M = unknown> = {
    joins: PresenceList<M>;
    leaves: PresenceList<M>;
};
import { Listeners } from "./listeners.js";
