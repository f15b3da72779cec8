package io.coffer.bench;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.api.Request;
import org.eclipse.jetty.client.api.Result;
import org.eclipse.jetty.client.util.BufferingResponseListener;
import org.eclipse.jetty.client.util.BytesContentProvider;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Latency at a fixed rate, open loop: request i is due at {@code start + i/rate} whether or not earlier ones have
 * answered, and its latency runs from when it was due, not from when it was sent — so a stalled server shows up
 * as queueing in the percentiles instead of silently lowering the rate (wrk's closed loop hides exactly that).
 */
final class FixedRate {
    record Result(double rate, long sent, long ok, long failed, double p50, double p99, double p999, double max,
            String firstFailure) {
    }

    private final HttpClient client;

    FixedRate(Path ca) throws Exception {
        SslContextFactory.Client tls = new SslContextFactory.Client();
        tls.setSslContext(Api.trusting(ca));
        client = new HttpClient(tls);
        client.setMaxConnectionsPerDestination(Wrk.CONNECTIONS);
        client.setMaxRequestsQueuedPerDestination(1 << 20);
        client.setFollowRedirects(false);
        client.start();
    }

    void stop() throws Exception {
        client.stop();
    }

    Result run(String baseUrl, Call call, double rate, int seconds, int warmupSeconds) throws InterruptedException {
        if (warmupSeconds > 0) {
            drive(baseUrl, call, rate, warmupSeconds, new ConcurrentHistogram(3));
        }
        return drive(baseUrl, call, rate, seconds, new ConcurrentHistogram(3));
    }

    private Result drive(String baseUrl, Call call, double rate, int seconds, Histogram hist)
            throws InterruptedException {
        long n = Math.max(1, Math.round(rate * seconds));
        double interval = 1e9 / rate;
        CountDownLatch done = new CountDownLatch((int) n);
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        long start = System.nanoTime();
        for (long i = 0; i < n; i++) {
            long due = start + (long) (i * interval);
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            Request req = client.newRequest(baseUrl + call.path(i)).method(call.method()).timeout(30, TimeUnit.SECONDS);
            for (Map.Entry<String, String> h : call.headers().entrySet()) {
                req.header(h.getKey(), h.getValue());
            }
            byte[] body = call.body(i);
            if (body != null) {
                req.content(new BytesContentProvider(call.headers().getOrDefault("Content-Type", "text/plain"),
                        body));
            }
            req.send(new BufferingResponseListener(1 << 20) {
                @Override
                public void onComplete(org.eclipse.jetty.client.api.Result result) {
                    long end = System.nanoTime();
                    if (result.isSucceeded() && result.getResponse().getStatus() == call.expect()) {
                        hist.recordValue(Math.max(1, (end - due) / 1000));
                        ok.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, result.isSucceeded()
                                ? result.getResponse().getStatus() + " " + abbreviate(getContentAsString())
                                : String.valueOf(result.getFailure()));
                    }
                    done.countDown();
                }
            });
        }
        if (!done.await(seconds + 60L, TimeUnit.SECONDS)) {
            failed.addAndGet(done.getCount());
        }
        return new Result(rate, n, ok.get(), failed.get(), ms(hist.getValueAtPercentile(50)),
                ms(hist.getValueAtPercentile(99)), ms(hist.getValueAtPercentile(99.9)), ms(hist.getMaxValue()),
                firstFailure.get());
    }

    static String abbreviate(String s) {
        return s == null ? "" : s.length() > 200 ? s.substring(0, 200) : s;
    }

    private static double ms(long micros) {
        return micros / 1000.0;
    }
}
