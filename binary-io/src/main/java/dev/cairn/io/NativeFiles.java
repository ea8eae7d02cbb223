package dev.cairn.io;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The Linux file calls the JDK 17 API lacks, through JNA: extended attributes of every namespace
 * ({@code llistxattr}, {@code lgetxattr}, {@code lsetxattr}), on any kind of file, never following
 * a symlink (the JDK reads only {@code user.} attributes, and opens the file to do so), and the
 * space a file takes on disk ({@code statx} {@code stx_blocks}, which the JDK does not expose).
 *
 * <p>JNA and its native library load on first use. Where they cannot (another OS, a 32-bit JVM,
 * no JNA on the class path, a temp directory mounted {@code noexec}), {@link #unavailable()} says
 * why and the calls throw {@link UnsupportedOperationException}; callers fall back to the JDK.
 * Not for hot loops on many threads: each thread reuses one 64 KiB list buffer and one 64 KiB value
 * buffer (the kernel's limits, {@code XATTR_LIST_MAX} and {@code XATTR_SIZE_MAX}), so reading an
 * entry's attributes takes one {@code llistxattr} call, plus one {@code lgetxattr} per attribute.
 */
public final class NativeFiles {
    /** The kernel's bound on a listxattr result and on one value ({@code XATTR_LIST_MAX}, {@code XATTR_SIZE_MAX}). */
    public static final int MAX_XATTR_BYTES = 65536;
    private static final int ENOENT = 2;
    private static final int EPERM = 1;
    private static final int EACCES = 13;
    private static final int ERANGE = 34;
    private static final int ENODATA = 61;
    private static final int ENOTSUP = 95;
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int STATX_BLOCKS = 0x400;
    private static final int STATX_SIZE = 0x200;
    /** STATX_TYPE | MODE | NLINK | UID | GID | ATIME | MTIME | CTIME | INO | SIZE | BLOCKS. */
    private static final int STATX_BASIC_STATS = 0x7ff;
    /** What {@link #lstat} cannot do without: type, mode, nlink, uid, gid, mtime, ino, size. */
    private static final int STATX_NEEDED = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x100 | 0x200;

    private static final ThreadLocal<byte[][]> BUFFERS = ThreadLocal.withInitial(
            () -> new byte[][] {new byte[MAX_XATTR_BYTES], new byte[MAX_XATTR_BYTES]});

    private NativeFiles() {
    }

    /** Why the xattr calls cannot be made here (null when they can). Loads JNA on the first call. */
    public static String unavailable() {
        return Xattr.PROBLEM;
    }

    /** Why {@link #allocatedBytes} cannot ask the kernel here (null when it can). */
    public static String statxUnavailable() {
        return Xattr.PROBLEM != null ? Xattr.PROBLEM : Statx.PROBLEM;
    }

    /** An attribute {@link #readXattrs} listed but could not read (permission, or not decodable). */
    public record Unreadable(String name, String reason) {
    }

    /** What {@link #readXattrs} found: the values by full name, and what could not be read. */
    public record Xattrs(SortedMap<String, byte[]> values, java.util.List<Unreadable> unreadable) {
    }

    /**
     * Every extended attribute of {@code path} itself (a symlink's own, never its target's), by full
     * name ({@code user.x}, {@code security.capability}, {@code system.posix_acl_access}, ...). A
     * file system without xattr support has none. Only the namespaces the caller may read are listed
     * by the kernel: {@code trusted.} needs CAP_SYS_ADMIN.
     */
    public static Xattrs readXattrs(Path path) throws IOException {
        requireXattrs();
        byte[] p = cPath(path);
        byte[][] bufs = BUFFERS.get();
        byte[] list = bufs[0];
        long n;
        try {
            n = Xattr.llistxattr(p, list, list.length);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ENOTSUP) {
                return new Xattrs(new TreeMap<>(), java.util.List.of());
            }
            throw error("llistxattr", path, e);
        }
        SortedMap<String, byte[]> values = new TreeMap<>();
        java.util.List<Unreadable> unreadable = new java.util.ArrayList<>(0);
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (list[i] != 0) {
                continue;
            }
            if (i > start) {
                byte[] cname = Arrays.copyOfRange(list, start, i + 1); // with its NUL
                String name = utf8(cname, i - start);
                byte[] value = bufs[1];
                try {
                    long len = Xattr.lgetxattr(p, cname, value, value.length);
                    if (name == null) {
                        unreadable.add(new Unreadable(new String(cname, 0, i - start, StandardCharsets.ISO_8859_1), "name is not UTF-8"));
                    } else {
                        values.put(name, Arrays.copyOf(value, Math.toIntExact(len)));
                    }
                } catch (LastErrorException e) {
                    int code = e.getErrorCode();
                    if (code == ENODATA) {
                        // removed between the list and the read: not there any more
                    } else if (code == EPERM || code == EACCES || code == ERANGE) {
                        unreadable.add(new Unreadable(name != null ? name : new String(cname, 0, i - start, StandardCharsets.ISO_8859_1),
                                code == ERANGE ? "value larger than 64 KiB" : "permission denied"));
                    } else {
                        throw error("lgetxattr " + name, path, e);
                    }
                }
            }
            start = i + 1;
        }
        return new Xattrs(values, unreadable);
    }

    /**
     * Sets the extended attribute {@code name} of {@code path} itself (never a symlink's target).
     *
     * @throws java.nio.file.AccessDeniedException when the namespace needs privileges the caller lacks
     *                                             ({@code trusted.}, most of {@code security.}), or
     *                                             the file system refuses it (user. on a symlink)
     */
    public static void setXattr(Path path, String name, byte[] value) throws IOException {
        requireXattrs();
        if (value.length > MAX_XATTR_BYTES) {
            throw new IllegalArgumentException("xattr value of " + value.length + " bytes (at most " + MAX_XATTR_BYTES + ")");
        }
        byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
        try {
            Xattr.lsetxattr(cPath(path), n, value, value.length, 0);
        } catch (LastErrorException e) {
            throw error("lsetxattr " + name, path, e);
        }
    }

    /**
     * The bytes {@code path} (not a symlink's target) occupies on disk, {@code st_blocks * 512}, or
     * -1 when the kernel does not say or the call is unavailable here.
     */
    public static long allocatedBytes(Path path) throws IOException {
        if (statxUnavailable() != null) {
            return -1;
        }
        byte[] buf = new byte[256];
        try {
            Statx.statx(AT_FDCWD, cPath(path), AT_SYMLINK_NOFOLLOW, STATX_BLOCKS | STATX_SIZE, buf);
        } catch (LastErrorException e) {
            throw error("statx", path, e);
        }
        ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
        if ((b.getInt(0) & STATX_BLOCKS) == 0) {
            return -1;
        }
        return allocated(b.getLong(48)); // struct statx: stx_blocks at offset 48 on every architecture
    }

    /** {@code st_blocks} (512-byte units) in bytes, or -1 when the kernel's count makes no sense. */
    private static long allocated(long blocks) {
        return blocks < 0 || blocks > Long.MAX_VALUE / 512 ? -1 : blocks * 512;
    }

    /**
     * What {@code lstat} says of {@code path} (a symlink itself, not its target), from one {@code statx} call; devices
     * as (major, minor), times in whole seconds (the floor), {@code allocated} = {@code st_blocks * 512} or -1.
     */
    public record Stat(int mode, long ino, int devMajor, int devMinor, long nlink, int rdevMajor, int rdevMinor,
                       long size, long uid, long gid, long mtimeSeconds, long allocated) {
    }

    /**
     * {@link Stat} of {@code path} through {@code statx(AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS)}, or null when the
     * call is unavailable here or the kernel left out a field it needs (the caller then asks the JDK).
     */
    public static Stat lstat(Path path) throws IOException {
        if (statxUnavailable() != null) {
            return null;
        }
        byte[] buf = new byte[256];
        try {
            Statx.statx(AT_FDCWD, cPath(path), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, buf);
        } catch (LastErrorException e) {
            throw error("statx", path, e);
        }
        // struct statx (linux/stat.h) has the same layout on every architecture
        ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
        int mask = b.getInt(0);
        if ((mask & STATX_NEEDED) != STATX_NEEDED) {
            return null;
        }
        long allocated = (mask & STATX_BLOCKS) == 0 ? -1 : allocated(b.getLong(48));
        long size = b.getLong(40);
        if (size < 0) {
            throw new IOException(path + ": statx reports a negative size");
        }
        return new Stat(Short.toUnsignedInt(b.getShort(28)), b.getLong(32), b.getInt(136), b.getInt(140),
                Integer.toUnsignedLong(b.getInt(16)), b.getInt(128), b.getInt(132), size,
                Integer.toUnsignedLong(b.getInt(20)), Integer.toUnsignedLong(b.getInt(24)), b.getLong(112), allocated);
    }

    private static void requireXattrs() {
        String why = Xattr.PROBLEM;
        if (why != null) {
            throw new UnsupportedOperationException("native extended attribute calls unavailable: " + why);
        }
    }

    private static String utf8(byte[] b, int len) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, 0, len)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** The path as the kernel knows it: the JDK's own file name encoding, NUL-terminated. */
    private static byte[] cPath(Path path) {
        String s = path.toString();
        byte[] b = s.getBytes(JNU);
        byte[] c = Arrays.copyOf(b, b.length + 1);
        for (int i = 0; i < b.length; i++) {
            if (b[i] == 0) {
                throw new IllegalArgumentException("path contains NUL: " + s);
            }
        }
        return c;
    }

    private static final Charset JNU = jnuCharset();

    private static Charset jnuCharset() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }

    private static IOException error(String call, Path path, LastErrorException e) {
        int code = e.getErrorCode();
        String msg = call + ": " + strerror(code);
        return switch (code) {
            case ENOENT -> new java.nio.file.NoSuchFileException(path.toString(), null, msg);
            case EPERM, EACCES -> new java.nio.file.AccessDeniedException(path.toString(), null, msg);
            default -> new java.nio.file.FileSystemException(path.toString(), null, msg);
        };
    }

    private static String strerror(int code) {
        return switch (code) {
            case EPERM -> "operation not permitted (EPERM)";
            case ENOENT -> "no such file (ENOENT)";
            case EACCES -> "permission denied (EACCES)";
            case ERANGE -> "value too large (ERANGE)";
            case ENODATA -> "no such attribute (ENODATA)";
            case ENOTSUP -> "not supported by the file system (ENOTSUP)";
            case 7 -> "argument list too long (E2BIG)";
            case 28 -> "no space left for attributes (ENOSPC)";
            case 30 -> "read-only file system (EROFS)";
            case 122 -> "disk quota exceeded (EDQUOT)";
            default -> "errno " + code;
        };
    }

    /** libc's xattr calls, bound when this class initialises (direct mapping: no proxy per call). */
    private static final class Xattr {
        static final String PROBLEM;

        static {
            String problem = null;
            try {
                if (!Platform.isLinux()) {
                    problem = "not Linux (" + System.getProperty("os.name") + ")";
                } else if (Native.SIZE_T_SIZE != 8) {
                    problem = "a 32-bit JVM";
                } else {
                    Native.register(Xattr.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
                }
            } catch (LinkageError | RuntimeException e) {
                problem = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            PROBLEM = problem;
        }

        static native long llistxattr(byte[] path, byte[] list, long size) throws LastErrorException;

        static native long lgetxattr(byte[] path, byte[] name, byte[] value, long size) throws LastErrorException;

        static native int lsetxattr(byte[] path, byte[] name, byte[] value, long size, int flags) throws LastErrorException;
    }

    /** statx (glibc 2.28, Linux 4.11): bound apart, so an older libc only loses {@link #allocatedBytes}. */
    private static final class Statx {
        static final String PROBLEM;

        static {
            String problem = Xattr.PROBLEM;
            if (problem == null) {
                try {
                    Native.register(Statx.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
                } catch (LinkageError | RuntimeException e) {
                    problem = e.getClass().getSimpleName() + ": " + e.getMessage();
                }
            }
            PROBLEM = problem;
        }

        static native int statx(int dirfd, byte[] path, int flags, int mask, byte[] buf) throws LastErrorException;
    }
}
