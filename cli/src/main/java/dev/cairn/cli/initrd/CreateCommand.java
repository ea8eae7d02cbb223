package dev.cairn.cli.initrd;

import dev.cairn.cli.JsonOption;
import dev.cairn.cli.OutputFailure;
import dev.cairn.cli.SourceDateEpochOption;
import dev.cairn.io.AtomicOutput;
import dev.cairn.uki.initrd.InitrdCompression;
import dev.cairn.uki.initrd.InitrdOptions;
import dev.cairn.uki.initrd.InitrdResult;
import dev.cairn.uki.initrd.InitrdTree;
import dev.cairn.uki.initrd.InitrdWriter;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn initrd create}: a directory as a reproducible initramfs. */
@Command(name = "create", mixinStandardHelpOptions = true,
        description = {"Create an initramfs (newc cpio, as the kernel unpacks it) from DIR.",
                "Entries are sorted, every mtime is --source-date-epoch (or $SOURCE_DATE_EPOCH, else 0), owners are 0:0"
                        + " unless --keep-owner, inode numbers count from 1: the same tree always gives the same bytes."})
final class CreateCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "DIR", description = "Directory whose contents become the initramfs root.")
    Path dir;
    @Parameters(index = "1", paramLabel = "OUTPUT", description = "Archive to write (replaced atomically).")
    Path output;
    @Option(names = "--compress", paramLabel = "ALG", description = "zstd (default), gzip, xz or none.")
    String compress = "zstd";
    @Option(names = "--level", paramLabel = "N", description = "Compression level (defaults: zstd 19, gzip 9, xz 6).")
    Integer level;
    @Option(names = "--keep-owner", description = "Store the files' uid/gid instead of 0:0.")
    boolean keepOwner;
    @Mixin
    SourceDateEpochOption sourceDateEpoch;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        InitrdCompression c = InitrdCompression.parse(compress);
        InitrdOptions options = InitrdOptions.defaults(c);
        if (level != null) {
            options = options.withLevel(level);
        }
        options = options.withMtime(sourceDateEpoch.instant(spec.commandLine()).map(Instant::getEpochSecond).orElse(0L));
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a directory");
        }
        InitrdResult r;
        try (AtomicOutput out = AtomicOutput.open(output)) {
            OutputStream os = new BufferedOutputStream(new OutputErrors(Channels.newOutputStream(out.channel())), 1 << 16);
            try (InitrdWriter w = new InitrdWriter(os, options)) {
                InitrdTree.add(dir, w, keepOwner, Set.of(output.toAbsolutePath().normalize(), out.tempPath().toAbsolutePath().normalize()));
                r = w.finish();
            }
            os.flush();
            try {
                out.commit();
            } catch (IOException e) {
                throw new OutputFailure("cannot write " + output, e);
            }
        }
        print(r, options);
        return 0;
    }

    /** Failures writing the archive are exit 6, failures reading the tree stay exit 3. */
    private final class OutputErrors extends java.io.FilterOutputStream {
        OutputErrors(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw new OutputFailure("cannot write " + output, e);
            }
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void flush() {
            try {
                out.flush();
            } catch (IOException e) {
                throw new OutputFailure("cannot write " + output, e);
            }
        }
    }

    private void print(InitrdResult r, InitrdOptions o) {
        PrintWriter out = spec.commandLine().getOut();
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("output", output.toString());
            m.put("compression", o.compression().label());
            m.put("level", o.level());
            m.put("mtime", o.mtime());
            m.put("entries", r.entries());
            m.put("cpioBytes", r.cpioBytes());
            m.put("size", r.size());
            m.put("sha256", r.sha256Hex());
            JsonOption.print(out, m);
            return;
        }
        out.printf(Locale.ROOT, "Created %s: %d entries, %d bytes (%s; cpio %d bytes), sha256 %s%n", output, r.entries(), r.size(),
                o.compression().label(), r.cpioBytes(), r.sha256Hex());
    }
}
