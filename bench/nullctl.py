"""The null responder: an OpenFlow 1.0 "controller" that answers each PACKET_IN with one PACKET_OUT and does
nothing else. Run against the load generator, it shows the generator's own ceiling.

    python -m bench.nullctl --port 6653
"""
import argparse
import asyncio
import socket

from bench import ofwire as w

FLOOD = w.struct.pack('!HHHH', 0, 8, w.OFPP_FLOOD, 0)  # OFPAT_OUTPUT to FLOOD, max_len 0


class NullController(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buf = bytearray()
        transport.get_extra_info('socket').setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.write(w.hello(1) + w.message(w.FEATURES_REQUEST, 2))

    def data_received(self, data):
        buf = self.buf
        buf += data
        out = []
        offset, end = 0, len(buf)
        while end - offset >= 8:
            msg_type = buf[offset + 1]
            length = max(8, (buf[offset + 2] << 8) | buf[offset + 3])
            if end - offset < length:
                break
            if msg_type == w.PACKET_IN:
                xid, buffer_id, _total, in_port = w.struct.unpack_from('!4xIIHH', buf, offset)
                data = b'' if buffer_id != w.NO_BUFFER else bytes(buf[offset + 18:offset + length])
                out.append(w.message(w.PACKET_OUT, xid, w.PACKET_OUT_FIXED.pack(buffer_id, in_port, 8) + FLOOD + data))
            elif msg_type == w.ECHO_REQUEST:
                out.append(w.message(w.ECHO_REPLY, w.UINT32.unpack_from(buf, offset + 4)[0],
                                     bytes(buf[offset + 8:offset + length])))
            offset += length
        del buf[:offset]
        if out:
            self.transport.write(b''.join(out))


async def serve(host, port):
    server = await asyncio.get_running_loop().create_server(NullController, host, port, reuse_address=True)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=6653)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
