"""What a hostile peer does, by hand: raw ZMTP 3.0 over a plain TCP socket,
protobuf encoded byte by byte, a process's resident memory, and CURVE
clients through the system libzmq (ctypes). Python standard library only.

A RawPeer completes the NULL handshake as a socket of the given type and
then sends whatever it is told, frame by frame: a never-ending multipart
message, subscriptions, requests it never reads the answers to.
"""
import ctypes
import ctypes.util
import os
import select
import socket
import struct
import time

GREETING = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31


def rss_kib(pid):
    """Resident set size of a process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def frame(body, more=False, command=False):
    """One ZMTP 3.0 frame: flags, size (short or long), body."""
    flags = (1 if more else 0) | (4 if command else 0)
    if len(body) < 256:
        return bytes([flags, len(body)]) + body
    return bytes([flags | 2]) + struct.pack(">Q", len(body)) + body


def ready(socket_type):
    prop = b"Socket-Type"
    body = b"\x05READY" + bytes([len(prop)]) + prop + struct.pack(">I", len(socket_type)) + socket_type.encode()
    return frame(body, command=True)


class RawPeer:
    """A ZMTP peer by hand (NULL mechanism), as client or as server."""

    def __init__(self, sock, socket_type):
        self.sock = sock
        self.sock.settimeout(10)
        self.sock.sendall(GREETING)
        got = b""
        while len(got) < 64:
            data = self.sock.recv(64 - len(got))
            if not data:
                raise ConnectionError("closed during the greeting")
            got += data
        # libzmq resets a peer that sends frames before the greeting was read
        self.sock.sendall(ready(socket_type))
        self.sent = 0

    @classmethod
    def connect(cls, port, socket_type="DEALER", rcvbuf=None):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.connect(("127.0.0.1", port))
        return cls(sock, socket_type)

    def send(self, data):
        self.sock.sendall(data)
        self.sent += len(data)

    def message(self, *frames):
        self.send(b"".join(frame(f, more=i < len(frames) - 1) for i, f in enumerate(frames)))

    def endless(self, total, frame_size=0, chunk=1 << 16):
        """Sends frames of frame_size bytes, every one with MORE set, until
        total bytes went out or the other end cut the connection. Returns
        True if it was cut."""
        one = frame(b"x" * frame_size, more=True)
        block = one * max(1, chunk // len(one))
        # A peer that cut us reads no more: a send waits for room that never
        # comes, so wait briefly and look for its end of the stream
        self.sock.settimeout(0.2)
        view, at = memoryview(block), 0
        try:
            while self.sent < total:
                if self.closed_by_peer():
                    return True
                try:
                    n = self.sock.send(view[at:])
                except socket.timeout:
                    continue
                self.sent += n
                at = (at + n) % len(block)
        except OSError:
            return True
        finally:
            self.sock.settimeout(10)
        return False

    def closed_by_peer(self):
        """True if the other end has closed its side (what it sent before
        is read and dropped); never waits."""
        while select.select([self.sock], [], [], 0)[0]:
            try:
                if not self.sock.recv(1 << 16):
                    return True
            except OSError:
                return True
        return False

    def cut(self, timeout=10):
        """True once the other end has closed the connection (reading and
        dropping whatever it sent first)."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.sock.recv(1 << 16):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True
        return False

    def close(self):
        self.sock.close()


def listen():
    """A listening socket on a free loopback port: (socket, port)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server, server.getsockname()[1]


# Protobuf, by hand: varints and length-delimited fields are all we need

def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, value):
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def candidate(name, party, votes, elected=False):
    return field_bytes(1, name) + field_bytes(2, party) + field_varint(3, votes) + field_varint(4, int(elected))


def declaration(ons_id, revision, electorate, candidates, request_id, election="uk-general", mode=3, reason=0):
    """A packed Declaration (proto/election.proto), rehearsal mode."""
    out = field_bytes(1, election) + field_bytes(2, ons_id) + field_varint(3, revision) + field_varint(4, electorate)
    for c in candidates:
        out += field_bytes(5, c)
    out += field_varint(8, mode) + field_varint(10, reason) + field_varint(11, request_id)
    return out


def ack_fields(data):
    """The varint and string fields of a packed Ack, by number."""
    fields, i = {}, 0
    while i < len(data):
        key, i = _read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields[number], i = _read_varint(data, i)
        elif wire == 2:
            size, i = _read_varint(data, i)
            fields[number] = data[i:i + size]
            i += size
        else:
            raise ValueError("unexpected wire type %d" % wire)
    return fields


def _read_varint(data, i):
    shift = value = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def read_frames(sock, count):
    """Reads count frames (after the handshake) from a RawPeer's socket."""
    frames, buf = [], b""
    while len(frames) < count:
        while True:
            if len(buf) >= 2:
                flags = buf[0]
                if flags & 2:
                    if len(buf) >= 9:
                        size, head = struct.unpack(">Q", buf[1:9])[0], 9
                        break
                else:
                    size, head = buf[1], 2
                    break
            data = sock.recv(1 << 16)
            if not data:
                raise ConnectionError("closed")
            buf += data
        while len(buf) < head + size:
            data = sock.recv(1 << 16)
            if not data:
                raise ConnectionError("closed")
            buf += data
        if not flags & 4:       # commands (READY) are not frames of a message
            frames.append(buf[head:head + size])
        buf = buf[head + size:]
    return frames


class Zmq:
    """The few libzmq calls a CURVE client needs, through ctypes."""

    DEALER, SUB = 5, 2
    LINGER, CURVE_SERVER, CURVE_PUBLICKEY, CURVE_SECRETKEY, CURVE_SERVERKEY = 17, 47, 48, 49, 50
    MAX_SOCKETS = 2

    def __init__(self):
        self.lib = ctypes.CDLL(ctypes.util.find_library("zmq") or "libzmq.so.5")
        self.lib.zmq_ctx_new.restype = ctypes.c_void_p
        self.lib.zmq_socket.restype = ctypes.c_void_p
        self.lib.zmq_socket.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.lib.zmq_setsockopt.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
        self.lib.zmq_connect.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self.lib.zmq_close.argtypes = [ctypes.c_void_p]
        self.lib.zmq_ctx_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        self.lib.zmq_ctx_term.argtypes = [ctypes.c_void_p]
        self.ctx = self.lib.zmq_ctx_new()
        self.lib.zmq_ctx_set(self.ctx, self.MAX_SOCKETS, 8192)
        self.sockets = []

    def curve_dealer(self, endpoint, server_key):
        """A DEALER with a fresh random key pair, connecting over CURVE."""
        public, secret = ctypes.create_string_buffer(41), ctypes.create_string_buffer(41)
        assert self.lib.zmq_curve_keypair(public, secret) == 0
        s = self.lib.zmq_socket(self.ctx, self.DEALER)
        zero = ctypes.c_int(0)
        self.lib.zmq_setsockopt(s, self.LINGER, ctypes.byref(zero), 4)
        for option, key in ((self.CURVE_SERVERKEY, server_key.encode()), (self.CURVE_PUBLICKEY, public.value),
                            (self.CURVE_SECRETKEY, secret.value)):
            self.lib.zmq_setsockopt(s, option, key, 40)
        assert self.lib.zmq_connect(s, endpoint.encode()) == 0
        self.sockets.append(s)
        return s

    def send(self, socket, data):
        """Sends one frame without waiting (dropped if there is no connection)."""
        self.lib.zmq_send.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
        return self.lib.zmq_send(socket, data, len(data), 1)     # ZMQ_DONTWAIT

    def close(self):
        for s in self.sockets:
            self.lib.zmq_close(s)
        self.sockets = []
        self.lib.zmq_ctx_term(self.ctx)
