#!/usr/bin/python3
"""An independent implementation of the tarfs index that Kata's tardev snapshotter appends to a tar
layer (tarindex::append_index, Kata 3.2.0.azl3 / 3.15), written from its published algorithm on top
of Python's own tar reader. Usage: kata_tarindex.py LAYER.tar INDEX.out  (writes the appended bytes).

It is the oracle of TardevIndexIT: cairn's Java writer must produce the same bytes."""
import struct
import sys
import tarfile
from collections import deque

S_IFMT, S_IFSOCK, S_IFLNK, S_IFREG = 0o170000, 0o140000, 0o120000, 0o100000
S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO = 0o060000, 0o040000, 0o020000, 0o010000


class Node:
    def __init__(self):
        self.offset = 0
        self.size = 0
        self.children = {}
        self.mode = 0
        self.ino = 0
        self.emitted = False
        self.opaque = False
        self.mtime = 0
        self.owner = 0
        self.group = 0

    def child(self, name):
        if name not in self.children:
            self.children[name] = Node()
        return self.children[name]

    def sorted_children(self):
        return sorted(self.children.items(), key=lambda kv: kv[0])


def octal(field):
    """A tar numeric field as the Rust tar crate reads it (None when it does not parse)."""
    if field[0] & 0x80:
        return int.from_bytes(field[1:], 'big') if len(field) <= 8 else int.from_bytes(field[-8:], 'big')
    text = field.split(b'\0', 1)[0].decode('ascii', 'replace').strip()
    try:
        return int(text, 8)
    except ValueError:
        return None


def clean(path):
    out = []
    for c in path.split(b'/'):
        if c in (b'', b'.'):
            continue
        if c == b'..':
            if not out:
                return None
            out.pop()
            continue
        out.append(c)
    return out


def walk(node_ref, visit):
    q = deque([node_ref])
    while q:
        n = q.popleft()
        visit(n)
        for _, c in n.sorted_children():
            q.append(c)


def main(tar_path, out_path):
    raw = open(tar_path, 'rb').read()
    contents = len(raw)
    root = [Node()]
    root[0].mode = S_IFDIR | 0o555
    special = []

    def traverse(path):
        n = root[0]
        for c in path:
            n = n.child(c)
        return n

    with tarfile.open(tar_path, 'r:', encoding='utf-8', errors='surrogateescape') as tf:
        for m in tf:
            hdr_at = m.offset_data - 512
            hdr = raw[hdr_at:hdr_at + 512]
            name = m.name.encode('utf-8', 'surrogateescape')
            mode = octal(hdr[100:108])
            if mode is None:
                continue
            mode = mode & 0xffff & 0o777
            t = hdr[156:157]
            if t in (b'0', b'\0'):
                mode |= S_IFREG
                size, off = m.size, m.offset_data
            elif t == b'5':
                mode |= S_IFDIR
                size, off = 0, 0
            elif t == b'6':
                mode |= S_IFIFO
                size, off = 0, 0
            elif t in (b'3', b'4'):
                mode |= S_IFCHR if t == b'3' else S_IFBLK
                size, off = 0, (m.devminor | (m.devmajor << 32))
            elif t == b'2':
                mode |= S_IFLNK
                link = m.linkname.encode('utf-8', 'surrogateescape')
                hlink = hdr[157:257].split(b'\0', 1)[0]
                if hlink != link:
                    special.append(link)
                    off = 0
                else:
                    off = hdr_at + 157
                size = len(link)
            elif t == b'1':
                target = clean(m.linkname.encode('utf-8', 'surrogateescape'))
                if target is None:
                    continue
                existing = traverse(target)
                if existing.mode & S_IFMT != S_IFREG:
                    continue
                path = clean(name)
                if path is None:
                    continue
                if not path:
                    root[0] = existing
                else:
                    traverse(path[:-1]).children[path[-1]] = existing
                continue
            else:
                continue
            path = clean(name)
            if path is None:
                continue
            if path:
                last = path[-1]
                if last == b'.wh..wh..opq':
                    traverse(path[:-1]).opaque = True
                    continue
                if last.startswith(b'.wh.'):
                    n = traverse(path[:-1] + [last[4:]])
                    n.children = {}
                    n.mode = (n.mode & ~S_IFMT) | S_IFCHR
                    n.size = 0
                    n.offset = 0
                    continue
            n = traverse(path)
            n.children = {}
            n.mode, n.size, n.offset = mode, size, off
            n.mtime = octal(hdr[136:148]) or 0
            n.owner = (octal(hdr[108:116]) or 0) & 0xffffffff
            n.group = (octal(hdr[116:124]) or 0) & 0xffffffff
            n.ino, n.emitted, n.opaque = 0, False, False

    count = [0]

    def number(n):
        if n.ino == 0:
            count[0] += 1
            n.ino = count[0]
    walk(root[0], number)

    next_off = [contents + 32 * count[0]]

    def dir_offsets(n):
        if n.mode & S_IFMT == S_IFDIR:
            n.offset = next_off[0]
            n.size = 32 * len(n.children)
            next_off[0] += n.size
    walk(root[0], dir_offsets)

    out = bytearray()
    sym = [next_off[0]]

    def inode(n):
        if n.emitted:
            return
        off = n.offset
        if n.mode & S_IFMT == S_IFLNK and n.offset == 0:
            off = sym[0]
            sym[0] += n.size
        n.emitted = True
        out.extend(struct.pack('<HBBIIIQQ', n.mode, 1 if n.opaque else 0, (n.mtime >> 32) & 0xf, n.owner, n.group,
                               n.mtime & 0xffffffff, n.size, off))
    walk(root[0], inode)

    name_off = [sym[0]]

    def etype(mode):
        return {S_IFSOCK: 12, S_IFLNK: 10, S_IFREG: 8, S_IFBLK: 6, S_IFDIR: 4, S_IFCHR: 2, S_IFIFO: 1}.get(mode & S_IFMT, 0)

    def dirents(n):
        if n.mode & S_IFMT == S_IFDIR:
            for nm, c in n.sorted_children():
                out.extend(struct.pack('<QQQB7x', c.ino, name_off[0], len(nm), etype(c.mode)))
                name_off[0] += len(nm)
    walk(root[0], dirents)

    end = name_off[0]
    for link in special:
        out.extend(link)
        end += len(link)

    def names(n):
        if n.mode & S_IFMT == S_IFDIR:
            for nm, _ in n.sorted_children():
                out.extend(nm)
    names_total = [0]

    def count_names(n):
        if n.mode & S_IFMT == S_IFDIR:
            for nm in n.children:
                names_total[0] += len(nm)
    walk(root[0], names)
    walk(root[0], count_names)
    end += names_total[0]
    end = (end + 4095) // 4096 * 4096
    total = end + 4096 - contents
    out.extend(b'\0' * (total - len(out)))
    sb_at = end + 4096 - 512 - contents
    out[sb_at:sb_at + 16] = struct.pack('<QQ', contents, count[0])
    open(out_path, 'wb').write(bytes(out))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
