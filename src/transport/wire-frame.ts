// The websocket frame a server sends (RFC 6455 section 5.2): FIN, opcode
// 1 (text), no mask (server frames are never masked), no RSV bits (the server
// does not negotiate permessage-deflate), then the payload. Built once per
// encoded frame, so a broadcast writes the same bytes to every socket.

/** Bytes of the header of an unmasked server frame of `payload` bytes. */
export function headerBytes(payload: number): number {
  return payload > 65_535 ? 10 : payload > 125 ? 4 : 2;
}

/** Bytes of an unmasked, uncompressed server text frame of `payload` bytes on the wire, as `ws.bufferedAmount` counts them. */
export function wireBytes(payload: number): number {
  return payload + headerBytes(payload);
}

/**
 * Encodes `text` as UTF-8 into one buffer holding the whole text frame:
 * `wire` is what goes to the socket, `data` the payload (a view into it, no copy).
 */
export function textFrame(text: string): { readonly data: Buffer; readonly wire: Buffer } {
  const payload = Buffer.byteLength(text, "utf8");
  const head = headerBytes(payload);
  const wire = Buffer.allocUnsafe(head + payload);
  writeHeader(wire, payload, head);
  wire.write(text, head, "utf8");
  return { data: wire.subarray(head), wire };
}

/** The text frame of an already encoded payload (one copy). */
export function textFrameOf(data: Buffer): Buffer {
  const head = headerBytes(data.byteLength);
  const wire = Buffer.allocUnsafe(head + data.byteLength);
  writeHeader(wire, data.byteLength, head);
  data.copy(wire, head);
  return wire;
}

function writeHeader(wire: Buffer, payload: number, head: number): void {
  wire[0] = 0x81; // FIN + text
  if (head === 2) {
    wire[1] = payload;
  } else if (head === 4) {
    wire[1] = 126;
    wire.writeUInt16BE(payload, 2);
  } else {
    wire[1] = 127;
    wire[2] = wire[3] = 0;
    wire.writeUIntBE(payload, 4, 6);
  }
}
