// A health probe's own connection to one plugin (UNIX socket or plain TCP): Docker's handshake,
// `POST /Plugin.Activate`, written as the same bytes each time on one kept-alive socket, and its
// answer read to its end. Node's HTTP client costs ~240 µs of the host's CPU per
// request; this ~30 µs, which is most of what an idle supervisor spends on N process plugins.
// Any HTTP answer shows the plugin alive, whatever its status or body (as in moby's health
// checks): the body is only counted, to know where the answer ends. An answer that cannot be
// framed (neither Content-Length nor chunked, or `Connection: close`) counts once its head is in, and
// closes the socket; so do bytes nobody asked for, and a probe that timed out: the next probe
// opens another connection, so a stale answer can never count for it.
import net from 'node:net';
import { ACCEPT, ACTIVATE } from './docker-protocol.mjs';

const REQUEST = Buffer.from(
  `POST /${ACTIVATE} HTTP/1.1\r\nHost: plugin\r\nAccept: ${ACCEPT}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
  'latin1',
);
/** Where every probe socket's reads land (see #connect). */
const READ_BUFFER = Buffer.allocUnsafe(16 * 1024);
/** Headers longer than this are not an answer worth framing: the socket is closed after it. */
const MAX_HEAD = 16 * 1024;

/**
 * @typedef {{ resolve: (answered: boolean) => void, timer: NodeJS.Timeout, reused: boolean, deadline: number }} Pending
 * @typedef {{ socketPath: string } | { host: string, port: number }} PlainAddress
 */

/**
 * Where a chunked body ends (the index after its last CRLF), -1 while it is incomplete, -2 when
 * it is not chunked encoding.
 * @param {string} text @returns {number}
 */
export function chunkedEnd(text) {
  let at = 0;
  for (;;) {
    const eol = text.indexOf('\r\n', at);
    if (eol === -1) return -1;
    const size = /^[0-9a-fA-F]+/.exec(text.slice(at, eol));
    if (!size) return -2;
    const bytes = Number.parseInt(size[0], 16);
    at = eol + 2;
    if (bytes === 0) {
      for (;;) {
        const line = text.indexOf('\r\n', at); // trailers, until an empty line
        if (line === -1) return -1;
        if (line === at) return at + 2;
        at = line + 2;
      }
    }
    if (text.length < at + bytes + 2) return -1;
    if (text.slice(at + bytes, at + bytes + 2) !== '\r\n') return -2;
    at += bytes + 2;
  }
}

export class ProbeSocket {
  /** @type {PlainAddress} */
  #address;
  /** @type {net.Socket | null} */
  #socket = null;
  /** The answer being read: its bytes so far (until the head ends), then the body bytes still due. */
  #head = '';
  /** @type {number | null} */
  #bodyLeft = null;
  /** A chunked body so far, while one is read. @type {string | null} */
  #chunks = null;
  /** Whether the socket is between answers and may carry the next probe. */
  #idle = false;
  /** @type {Pending | null} */
  #pending = null;

  /** @param {PlainAddress} address */
  constructor(address) {
    this.#address = address;
  }

  /**
   * One handshake: resolves true as soon as the plugin answers (any HTTP status), false when it
   * does not within `timeoutMs`, or cannot be reached. A kept-alive socket the plugin closed
   * meanwhile is retried once on a new connection, so a plugin's idle timeout is no silence.
   * @param {number} timeoutMs @returns {Promise<boolean>}
   */
  probe(timeoutMs) {
    if (this.#pending) this.#settle(false);
    return new Promise((resolve) => {
      const deadline = performance.now() + timeoutMs;
      const timer = setTimeout(() => this.#settle(false), timeoutMs);
      timer.unref(); // as the probes' own interval: a probe in flight does not keep a host alive
      this.#pending = { resolve, timer, reused: false, deadline };
      this.#send();
    });
  }

  #send() {
    const pending = /** @type {Pending} */ (this.#pending);
    const reuse = this.#socket !== null && this.#idle;
    if (!reuse) this.#drop();
    pending.reused = reuse;
    this.#head = '';
    this.#bodyLeft = null;
    this.#chunks = null;
    this.#idle = false;
    try {
      const socket = this.#socket ?? this.#connect();
      socket.unref(); // a probe never keeps a host alive, as the probes' own interval
      socket.write(REQUEST);
    } catch {
      this.#settle(false); // an address net cannot use: no answer
    }
  }

  #connect() {
    const address = this.#address;
    // Answers are read into one buffer shared by every probe socket (`onread`): each read is
    // consumed before the callback returns, so no Buffer is made per answer and the readable
    // stream's machinery is skipped, half of what reading an answer cost the main thread.
    const onread = {
      buffer: READ_BUFFER,
      /** @param {number} bytes */
      callback: (bytes) => {
        this.#onData(socket, bytes);
        return true; // keep reading
      },
    };
    /** @type {net.Socket} */
    const socket =
      'socketPath' in address
        ? net.connect({ path: address.socketPath, onread })
        : net.connect({ host: address.host, port: address.port, onread });
    socket.setNoDelay(true);
    const lost = () => this.#onLost(socket);
    socket.on('error', lost);
    socket.on('close', lost);
    this.#socket = socket;
    return socket;
  }

  /** @param {net.Socket} socket @param {number} bytes read into READ_BUFFER */
  #onData(socket, bytes) {
    if (socket !== this.#socket) return;
    if (this.#idle) return this.#drop(); // bytes nobody asked for
    if (this.#bodyLeft !== null) return this.#consume(bytes);
    if (this.#chunks !== null) return this.#consumeChunks(READ_BUFFER.toString('latin1', 0, bytes));
    this.#head += READ_BUFFER.toString('latin1', 0, bytes);
    if (this.#head.length >= 8 && !this.#head.startsWith('HTTP/1.')) {
      this.#drop();
      return this.#settle(false); // not an HTTP answer: not a plugin's
    }
    const end = this.#head.indexOf('\r\n\r\n');
    if (end === -1) {
      if (this.#head.length > MAX_HEAD) this.#answered(false);
      return;
    }
    const head = this.#head.slice(0, end).toLowerCase();
    const body = this.#head.slice(end + 4);
    if (/\r\nconnection:[^\r]*close/.test(head)) return this.#answered(false);
    if (/\r\ntransfer-encoding:[ \t]*chunked[ \t]*(?:\r\n|$)/.test(head)) {
      this.#head = '';
      this.#chunks = '';
      return this.#consumeChunks(body);
    }
    const length = /\r\ncontent-length:[ \t]*(\d+)[ \t]*(?:\r\n|$)/.exec(head);
    if (!length || /\r\ntransfer-encoding:/.test(head)) return this.#answered(false);
    this.#head = '';
    this.#bodyLeft = Number(length[1]);
    this.#consume(body.length);
  }

  /** @param {string} text */
  #consumeChunks(text) {
    this.#chunks = /** @type {string} */ (this.#chunks) + text;
    const end = chunkedEnd(this.#chunks);
    if (end === -1) {
      if (this.#chunks.length > MAX_HEAD) this.#answered(false);
      return;
    }
    this.#answered(end === this.#chunks.length); // malformed (-2), or bytes past the answer: out of step
  }

  /** @param {number} bytes */
  #consume(bytes) {
    const left = /** @type {number} */ (this.#bodyLeft) - bytes;
    if (left < 0) return this.#answered(false); // more than the answer: out of step
    this.#bodyLeft = left;
    if (left === 0) this.#answered(true);
  }

  /**
   * The answer is complete (or its head, when it cannot be framed): the probe is answered, and
   * the socket carries the next one only if `reusable`.
   * @param {boolean} reusable
   */
  #answered(reusable) {
    this.#head = '';
    this.#bodyLeft = null;
    this.#chunks = null;
    if (reusable) {
      this.#idle = true;
      this.#socket?.unref();
    } else {
      this.#drop();
    }
    this.#settle(true);
  }

  /** @param {net.Socket} socket */
  #onLost(socket) {
    if (socket !== this.#socket) return;
    this.#socket = null;
    this.#idle = false;
    const pending = this.#pending;
    if (!pending) return;
    // A kept-alive socket the plugin closed before this probe reached it: once more, anew.
    if (pending.reused && this.#head === '' && performance.now() < pending.deadline) {
      this.#send();
      pending.reused = false;
      return;
    }
    this.#settle(false);
  }

  /** @param {boolean} answered */
  #settle(answered) {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = null;
    clearTimeout(pending.timer);
    if (!answered) this.#drop(); // an answer coming late is not the next probe's
    pending.resolve(answered);
  }

  #drop() {
    const socket = this.#socket;
    this.#socket = null;
    this.#idle = false;
    socket?.destroy();
  }

  /** Closes the connection; a probe under way resolves false. */
  close() {
    this.#settle(false);
    this.#drop();
  }
}
