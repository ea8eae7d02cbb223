package dev.cairn.cli.initrd;

import dev.cairn.cli.JsonOption;
import dev.cairn.cli.OutputFailure;
import dev.cairn.cli.OutputFile;
import dev.cairn.cli.SourceDateEpochOption;
import dev.cairn.io.AtomicOutput;
import dev.cairn.uki.initrd.InitrdCompression;
import dev.cairn.uki.initrd.InitrdContent;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
                        + " unless --keep-owner, inode numbers count from 1: the same tree always gives the same bytes.",
                "--binary adds a program of this machine at the same path, with every shared library it loads (found as ld.so"
                        + " finds them) and its interpreter; --module adds a kernel module from --kernel-modules DIR with its"
                        + " dependencies (modules.dep), decompressed, as /lib/modules/NAME.ko, listed in load order in"
                        + " /lib/modules/load-order."})
final class CreateCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "DIR", description = "Directory whose contents become the initramfs root.")
    Path dir;
    private final OutputFile outputFile = new OutputFile("OUTPUT");
    Path output;

    @Parameters(index = "1", arity = "0..1", paramLabel = "OUTPUT", description = "Archive to write (replaced atomically); or --output.")
    void outputArgument(Path p) {
        outputFile.set(spec, p);
    }

    @Option(names = {"--output", "-o"}, paramLabel = "FILE", description = "Archive to write, instead of OUTPUT.")
    void outputOption(Path p) {
        outputFile.set(spec, p);
    }

    @Option(names = "--compress", paramLabel = "ALG", description = "zstd (default), gzip, xz or none.")
    String compress = "zstd";
    @Option(names = "--level", paramLabel = "N", description = "Compression level (defaults: zstd 19, gzip 9, xz 6).")
    Integer level;
    @Option(names = "--keep-owner", description = "Store the files' uid/gid instead of 0:0.")
    boolean keepOwner;
    @Option(names = "--binary", paramLabel = "PATH",
            description = "Add this program (absolute path) and its shared-library closure at the same paths (repeatable).")
    List<Path> binaries = new ArrayList<>();
    @Option(names = "--kernel-modules", paramLabel = "DIR", description = "Modules directory of the kernel, e.g. /lib/modules/6.1.0-56-amd64.")
    Path modulesDir;
    @Option(names = "--module", paramLabel = "NAME",
            description = "Add this kernel module and its dependencies (repeatable; - and _ are the same; needs --kernel-modules).")
    List<String> modules = new ArrayList<>();
    @Mixin
    SourceDateEpochOption sourceDateEpoch;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        output = outputFile.require(spec);
        InitrdCompression c = InitrdCompression.parse(compress);
        InitrdOptions options = InitrdOptions.defaults(c);
        if (level != null) {
            options = options.withLevel(level);
        }
        options = options.withMtime(sourceDateEpoch.instant(spec.commandLine()).map(Instant::getEpochSecond).orElse(0L));
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a directory");
        }
        if (!modules.isEmpty() && modulesDir == null) {
            throw new IllegalArgumentException("--module needs --kernel-modules DIR (e.g. /lib/modules/$(uname -r))");
        }
        if (modulesDir != null && modules.isEmpty()) {
            throw new IllegalArgumentException("--kernel-modules needs at least one --module NAME");
        }
        for (Path b : binaries) {
            if (!b.isAbsolute()) {
                throw new IllegalArgumentException("--binary needs an absolute path (it is stored at the same path): " + b);
            }
        }
        InitrdContent extra = InitrdContent.resolve(binaries, modulesDir, modules);
        InitrdResult r;
        try (AtomicOutput out = AtomicOutput.open(output)) {
            OutputStream os = new BufferedOutputStream(new OutputErrors(Channels.newOutputStream(out.channel())), 1 << 16);
            try (InitrdWriter w = new InitrdWriter(os, options)) {
                InitrdTree.add(dir, w, keepOwner, Set.of(output.toAbsolutePath().normalize(), out.tempPath().toAbsolutePath().normalize()));
                extra.addTo(w);
                r = w.finish();
            }
            os.flush();
            try {
                out.commit();
            } catch (IOException e) {
                throw new OutputFailure("cannot write " + output, e);
            }
        }
        print(r, options, extra);
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

    private void print(InitrdResult r, InitrdOptions o, InitrdContent extra) {
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
            m.put("modules", extra.moduleLoadOrder());
            JsonOption.print(out, m);
            return;
        }
        if (!extra.moduleLoadOrder().isEmpty()) {
            out.printf(Locale.ROOT, "Kernel modules in load order: %s%n", String.join(" ", extra.moduleLoadOrder()));
        }
        out.printf(Locale.ROOT, "Created %s: %d entries, %d bytes (%s; cpio %d bytes), sha256 %s%n", output, r.entries(), r.size(),
                o.compression().label(), r.cpioBytes(), r.sha256Hex());
    }
}
