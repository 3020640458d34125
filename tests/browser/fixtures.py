"""What the browser tests need besides the browser: the fake webcam files made
from real photos, the camera's video file, a real `faceatt serve`, and a small
API client for setting up and checking.

Images are decoded and scaled with Pillow (Debian's python3-pil): OpenCV's
Python binding is not installed, and the Y4M (raw I420) and MJPEG AVI formats
are simple enough to write here.
"""
import io
import json
import os
import re
import socket
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from PIL import Image, ImageOps

# The fake webcam's frame: 640x480, what a laptop's camera gives.
FRAME_W, FRAME_H = 640, 480


def letterbox(path, mirror=False):
    """The photo scaled to the frame's height and centred on a grey frame, so
    a face centred in the photo is inside the kiosk's guide ellipse."""
    img = Image.open(path).convert('RGB')
    if mirror:
        img = ImageOps.mirror(img)
    scale = FRAME_H / img.height
    img = img.resize((max(1, round(img.width * scale)), FRAME_H), Image.BICUBIC)
    if img.width > FRAME_W:
        left = (img.width - FRAME_W) // 2
        img = img.crop((left, 0, left + FRAME_W, FRAME_H))
    frame = Image.new('RGB', (FRAME_W, FRAME_H), (128, 128, 128))
    frame.paste(img, ((FRAME_W - img.width) // 2, 0))
    return frame


def write_y4m(path, frames, fps=10, repeat=10):
    """A Y4M file (4:2:0, limited-range BT.601 as Chromium reads it) showing
    each frame `repeat` times; Chromium plays it in a loop as the webcam."""
    with open(path, 'wb') as out:
        out.write(b'YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n' % (FRAME_W, FRAME_H, fps))
        for frame in frames:
            y, cb, cr = frame.convert('YCbCr').split()  # full range (JPEG's)
            y = y.point(lambda v: 16 + v * 219 // 255)
            cb, cr = (c.resize((FRAME_W // 2, FRAME_H // 2), Image.BILINEAR)
                      .point(lambda v: 128 + (v - 128) * 224 // 255) for c in (cb, cr))
            planes = y.tobytes() + cb.tobytes() + cr.tobytes()
            for _ in range(repeat):
                out.write(b'FRAME\n')
                out.write(planes)


def write_mjpeg_avi(path, frames, fps=10, repeat=10):
    """An MJPEG AVI (RIFF, one video stream, idx1 index), the kind of file
    `camera.source` plays as the server's camera."""
    jpegs = []
    for frame in frames:
        buf = io.BytesIO()
        frame.save(buf, 'JPEG', quality=90)
        jpegs += [buf.getvalue()] * repeat
    chunk = lambda fourcc, data: fourcc + struct.pack('<I', len(data)) + data + (b'\0' if len(data) % 2 else b'')
    movi, index, offset = b'', b'', 4
    for data in jpegs:
        c = chunk(b'00dc', data)
        index += b'00dc' + struct.pack('<III', 0x10, offset, len(data))
        movi += c
        offset += len(c)
    n, biggest = len(jpegs), max(len(j) for j in jpegs)
    avih = struct.pack('<IIIIIIIIII16x', 1000000 // fps, biggest * fps, 0, 0x10, n, 0, 1, biggest,
                       FRAME_W, FRAME_H)
    strh = b'vidsMJPG' + struct.pack('<IHHIIIIIIiI4h', 0, 0, 0, 0, 1, fps, 0, n, biggest, -1, 0,
                                     0, 0, FRAME_W, FRAME_H)
    strf = struct.pack('<IiiHH4sIiiII', 40, FRAME_W, FRAME_H, 1, 24, b'MJPG', FRAME_W * FRAME_H * 3,
                       0, 0, 0, 0)
    lst = lambda kind, data: chunk(b'LIST', kind + data)
    hdrl = lst(b'hdrl', chunk(b'avih', avih) + lst(b'strl', chunk(b'strh', strh) + chunk(b'strf', strf)))
    body = b'AVI ' + hdrl + lst(b'movi', movi) + chunk(b'idx1', index)
    with open(path, 'wb') as out:
        out.write(b'RIFF' + struct.pack('<I', len(body)) + body)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Server:
    """A real `faceatt serve` on a free port with a temporary data folder and
    admin, reader and device keys; stopped with SIGTERM."""

    KEYS = {'admin': 'browser-admin-key', 'reader': 'browser-reader-key', 'device': 'browser-device-key'}

    def __init__(self, binary, models_dir, workdir, camera_source=''):
        self.workdir = workdir
        config = os.path.join(workdir, 'config.toml')
        with open(config, 'w') as f:
            f.write(f'''[paths]
data_dir = "{workdir}/data"
models_dir = "{models_dir}"
log_dir = "{workdir}/logs"

[attendance]
cooldown_seconds = 5

[server]
host = "127.0.0.1"
port = {free_port()}
workers = 2
admin_keys = ["{self.KEYS['admin']}"]
reader_keys = ["{self.KEYS['reader']}"]
device_keys = ["{self.KEYS['device']}"]

[camera]
source = "{camera_source}"
fps = 5

[logging]
file = false
''')
        self.log = open(os.path.join(workdir, 'serve.log'), 'w+')
        # Only the config file speaks: no FACEATT_* setting from the caller's environment.
        env = {k: v for k, v in os.environ.items() if not k.startswith('FACEATT_')}
        self.proc = subprocess.Popen([binary, '--config', config, 'serve'], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env=env)
        line = self.proc.stdout.readline()  # the one line it prints once it listens
        m = re.search(r'listening on (http://[\d.]+:\d+)', line)
        if not m:
            self.proc.kill()
            self.log.seek(0)
            raise RuntimeError(f'faceatt serve did not start: {line!r}\n{self.log.read()}')
        self.url = m.group(1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()

    def call(self, method, path, role='admin', body=None, files=None, fields=None):
        """(status, parsed JSON or text) of one API request with `role`'s key."""
        headers = {'X-API-Key': self.KEYS[role]}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        elif files is not None:
            boundary = uuid.uuid4().hex
            parts = []
            for k, v in (fields or {}).items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
            for p in files:
                with open(p, 'rb') as f:
                    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
                                 f'filename="{os.path.basename(p)}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                                 + f.read() + b'\r\n')
            data = b''.join(parts) + f'--{boundary}--\r\n'.encode()
            headers['Content-Type'] = f'multipart/form-data; boundary={boundary}'
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                status, raw, ctype = res.status, res.read(), res.headers.get('Content-Type', '')
        except urllib.error.HTTPError as e:
            status, raw, ctype = e.code, e.read(), e.headers.get('Content-Type', '')
        return status, (json.loads(raw) if 'json' in ctype else raw.decode('utf-8-sig'))
