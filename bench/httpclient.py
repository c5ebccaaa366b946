"""A minimal keep-alive HTTP/1.1 client on a raw socket, so the REST benchmark measures the server, not
http.client's header parsing (both controllers get the same client)."""
import socket


class KeepAliveClient:
    def __init__(self, port, host='127.0.0.1', timeout=30.0):
        self.host = host
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''

    def request(self, method, path, body=b''):
        """-> (status, body bytes). Raises ConnectionError if the server closes the connection."""
        head = ('%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n'
                % (method, path, self.host, len(body))).encode()
        self.sock.sendall(head + body)
        buf = self.buf
        while b'\r\n\r\n' not in buf:
            buf += self._recv()
        head, _, rest = buf.partition(b'\r\n\r\n')
        lines = head.split(b'\r\n')
        status = int(lines[0].split(None, 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b':')
            if name.strip().lower() == b'content-length':
                length = int(value)
        while len(rest) < length:
            rest += self._recv()
        self.buf = rest[length:]
        return status, rest[:length]

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError('server closed the connection')
        return data

    def close(self):
        self.sock.close()
