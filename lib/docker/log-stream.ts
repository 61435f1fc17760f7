/**
 * Docker's log stream of a container without a TTY multiplexes stdout and stderr in frames: a byte for the stream,
 * three zero bytes, the payload length (big-endian uint32), the payload. This joins the payloads back into text.
 * A truncated last frame is kept as far as it goes (the logs are for an error message).
 */
export function demultiplexLogs(raw: Buffer): string {
    const parts: Buffer[] = [];
    let offset = 0;
    while (offset + 8 <= raw.length && raw[offset] <= 2 && raw.readUIntBE(offset + 1, 3) === 0) {
        const length = raw.readUInt32BE(offset + 4);
        parts.push(raw.subarray(offset + 8, Math.min(offset + 8 + length, raw.length)));
        offset += 8 + length;
    }
    // Not multiplexed (a TTY container) or trailing bytes: keep them as they are.
    if (offset < raw.length) parts.push(raw.subarray(offset));
    return Buffer.concat(parts).toString("utf8");
}
