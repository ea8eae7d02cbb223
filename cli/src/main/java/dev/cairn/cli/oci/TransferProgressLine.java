package dev.cairn.cli.oci;

import dev.cairn.cli.Progress;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.TransferProgress;
import java.io.PrintWriter;

/**
 * The progress line of an OCI transfer: one line per blob, replaced by the next blob's
 * ({@code push #3 0123456789ab [####......]  40% 40.0 MiB/100.0 MiB 80.0 MiB/s ETA 0:01}: verb, blob number, start of the
 * digest).
 * Shown only where {@link Progress} shows.
 */
public final class TransferProgressLine implements TransferProgress, AutoCloseable {
    private final Progress progress;
    private int blobs;

    private TransferProgressLine(Progress progress) {
        this.progress = progress;
    }

    /** A line on {@code err} where {@link Progress} shows ({@code off}: never, e.g. under --json or --quiet). */
    public static TransferProgressLine start(PrintWriter err, boolean off) {
        return new TransferProgressLine(Progress.start(err, "", -1, off));
    }

    /** What the transfer reports to: {@link TransferProgress#NONE} when no line shows (nothing to count). */
    public TransferProgress listener() {
        return progress.enabled() ? this : TransferProgress.NONE;
    }

    @Override
    public synchronized void blobStarted(String verb, Descriptor blob) {
        blobs++;
        progress.restart(verb + " #" + blobs + " " + blob.digest().hex().substring(0, 12), blob.size());
    }

    @Override
    public void advanced(long bytes) {
        progress.advance(bytes);
    }

    @Override
    public void close() {
        progress.close();
    }
}
