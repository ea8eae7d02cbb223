package dev.cairn.oci;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A request body made of bytes {@code [offset, offset+length)} of a file, handed to the HTTP client
 * as read-only slices of a memory mapping. The JDK's {@code BodyPublishers.ofFile} copies the file
 * through 16 KiB heap buffers that the socket layer copies again; mapped slices go from the page
 * cache to the socket in one write each, and a chunk is never held in memory (a 500 MB push in
 * 16 MiB chunks, which were byte arrays before: client CPU 4.2 s → 2.3–2.6 s). At most
 * {@link #WINDOW} bytes are mapped at a time, so a huge blob never needs a huge mapping; mappings
 * are released by the garbage collector like any direct buffer.
 *
 * <p>Each subscription opens the file itself, so the publisher can be re-sent (retries,
 * redirects). A file shorter than the region fails the subscription with a {@link FormatException}
 * before anything past its end is touched.
 */
final class FileRegionPublisher implements HttpRequest.BodyPublisher {
    /** Bytes per {@code onNext}. */
    static final int SLICE = 1 << 20;
    /** Bytes mapped at a time. */
    static final int WINDOW = 64 << 20;

    private final Path file;
    private final long offset;
    private final long length;
    private final java.util.function.LongConsumer sent;

    FileRegionPublisher(Path file, long offset, long length) {
        this(file, offset, length, n -> { });
    }

    /** {@code sent} hears of each slice as it is handed to the HTTP client (for a progress display). */
    FileRegionPublisher(Path file, long offset, long length, java.util.function.LongConsumer sent) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative file region " + offset + "+" + length);
        }
        this.file = file;
        this.offset = offset;
        this.length = length;
        this.sent = sent;
    }

    @Override
    public long contentLength() {
        return length;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
        subscriber.onSubscribe(new Region(subscriber));
    }

    /** One pass over the region; signals are serialised by a work-in-progress counter. */
    private final class Region implements Flow.Subscription {
        private final Flow.Subscriber<? super ByteBuffer> subscriber;
        private final AtomicLong demand = new AtomicLong();
        private final AtomicInteger wip = new AtomicInteger();
        private volatile boolean cancelled;
        private volatile Throwable badRequest;
        private boolean done;
        private FileChannel channel;
        private MappedByteBuffer window;
        private long position; // bytes of the region already handed out

        Region(Flow.Subscriber<? super ByteBuffer> subscriber) {
            this.subscriber = subscriber;
        }

        @Override
        public void request(long n) {
            if (n <= 0) {
                badRequest = new IllegalArgumentException("non-positive request " + n);
                drain();
                return;
            }
            demand.getAndUpdate(d -> d + n < 0 ? Long.MAX_VALUE : d + n);
            drain();
        }

        @Override
        public void cancel() {
            cancelled = true;
            drain();
        }

        private void drain() {
            if (wip.getAndIncrement() != 0) {
                return;
            }
            int missed = 1;
            do {
                while (!done) {
                    if (badRequest != null) {
                        fail(badRequest);
                        break;
                    }
                    if (cancelled) {
                        finish();
                        break;
                    }
                    if (position == length) {
                        finish();
                        subscriber.onComplete();
                        break;
                    }
                    if (demand.get() == 0) {
                        break;
                    }
                    ByteBuffer next;
                    try {
                        next = nextSlice();
                    } catch (FormatException e) {
                        fail(e);
                        break;
                    } catch (IOException e) {
                        fail(new BlobReadException(e));
                        break;
                    } catch (RuntimeException e) {
                        fail(e);
                        break;
                    }
                    demand.decrementAndGet();
                    sent.accept(next.remaining());
                    try {
                        subscriber.onNext(next);
                    } catch (RuntimeException | Error e) {
                        cancelled = true; // a subscriber that throws is done (rule 2.13): release the file
                        finish();
                        throw e;
                    }
                }
                missed = wip.addAndGet(-missed);
            } while (missed != 0);
        }

        private ByteBuffer nextSlice() throws IOException {
            if (window == null || !window.hasRemaining()) {
                if (channel == null) {
                    channel = FileChannel.open(file, StandardOpenOption.READ);
                    long size = channel.size();
                    if (size < offset + length) {
                        throw new FormatException("size", length, file + " holds " + Math.max(0, size - offset)
                                + " bytes from offset " + offset + ", fewer than the " + length + " to send");
                    }
                }
                long n = Math.min(WINDOW, length - position);
                window = channel.map(FileChannel.MapMode.READ_ONLY, offset + position, n);
            }
            int n = Math.min(SLICE, window.remaining());
            ByteBuffer slice = window.slice(window.position(), n).asReadOnlyBuffer();
            window.position(window.position() + n);
            position += n;
            return slice;
        }

        private void fail(Throwable t) {
            finish();
            subscriber.onError(t);
        }

        private void finish() {
            done = true;
            window = null;
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // read-only channel: nothing was written that closing could lose
                }
                channel = null;
            }
        }
    }
}
