package io.coffer.rest.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Collections;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.apache.cxf.message.Message;
import org.apache.cxf.transport.MessageObserver;
import org.apache.cxf.transport.http.AbstractHTTPDestination;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.ProxyProtocolClientConnectionFactory;
import org.eclipse.jetty.client.api.ContentResponse;
import org.eclipse.jetty.client.api.Request;
import org.eclipse.jetty.client.util.BytesContentProvider;
import org.eclipse.jetty.client.util.FutureResponseListener;
import org.eclipse.jetty.http.HttpField;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.election.WriteHandover;
import io.coffer.api.net.NodeTls;

/**
 * The API's side of a switchover (architecture 76). {@link #wrap} puts it in front of the whole CXF chain (ahead of
 * the client-address decision's consumers and of every fast path), where each request is seen once:
 * <ul>
 * <li>normally, writes are counted while they run, so a hold knows when the admitted ones are done;</li>
 * <li>holding, a new write waits here (bounded) instead of failing; reads are served, the data can't change;</li>
 * <li>forwarding, every API request but health goes to the new Leader over TLS with a PROXY v2 header naming the
 * client, and its answer is relayed with {@code Connection: close}, so the client's next request goes through the
 * load balancer again and lands on the new Leader.</li>
 * </ul>
 */
@Component(service = {WriteHandover.class, Handover.class})
public class Handover implements WriteHandover {
    private static final Logger LOG = LoggerFactory.getLogger(Handover.class);
    private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Pattern AUTHENTICATE = Pattern.compile("^/authn[^/]*/.+/authenticate$");
    /** Hop-by-hop headers, those the relay sets itself, and cookies (the API reads none; the console isn't relayed). */
    private static final Set<String> NOT_RELAYED = Set.of("connection", "keep-alive", "transfer-encoding", "te",
            "upgrade", "proxy-connection", "proxy-authorization", "host", "content-length", "x-forwarded-for",
            "cookie", "set-cookie");
    /** Message property set on a request this node relayed (request metrics count it as {@code relayed}). */
    static final String RELAYED = "coffer.relayed";
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();
    /** The largest body relayed: the policy route's own limit is below it. */
    static final int MAX_BODY = 32 << 20;
    /** How long a held write waits for the handover to end (switchover bounds its own steps well inside this). */
    static final long HOLD_MILLIS = 15_000;
    static final long RELAY_TIMEOUT_SECONDS = 60;

    private enum Mode { SERVING, HOLDING, HOLDING_ALL, FORWARDING }

    private final Object lock = new Object();
    private final AtomicInteger writes = new AtomicInteger();
    private final AtomicInteger relaying = new AtomicInteger();
    private volatile Mode mode = Mode.SERVING;
    private volatile String host;
    private volatile int port;
    private volatile long lastForward;
    private HttpClient client;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile NodeTls tls;
    @Reference
    private ClientIps clientIps;

    /** @return {@code inner} behind this handover's gate */
    MessageObserver wrap(MessageObserver inner) {
        return new Gate(inner);
    }

    final class Gate implements MessageObserver {
        final MessageObserver inner;

        Gate(MessageObserver inner) {
            this.inner = inner;
        }

        @Override
        public void onMessage(Message message) {
            HttpServletRequest request = (HttpServletRequest) message.get(AbstractHTTPDestination.HTTP_REQUEST);
            HttpServletResponse response = (HttpServletResponse) message.get(AbstractHTTPDestination.HTTP_RESPONSE);
            if (request == null || response == null || request.getRequestURI().startsWith("/health")) {
                inner.onMessage(message);
                return;
            }
            boolean write = isWrite(request.getMethod(), request.getRequestURI());
            if (mode == Mode.SERVING && !write) {
                inner.onMessage(message);
                return;
            }
            serve(inner, message, request, response, write);
        }
    }

    static boolean isWrite(String method, String path) {
        return !READS.contains(method) && !AUTHENTICATE.matcher(path).matches();
    }

    private void serve(MessageObserver inner, Message message, HttpServletRequest request,
            HttpServletResponse response, boolean write) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HOLD_MILLIS);
        while (true) {
            Mode m = mode;
            if (m == Mode.FORWARDING) {
                message.put(RELAYED, Boolean.TRUE); // served by the new Leader: counted there, a relay here
                relay(request, response);
                return;
            }
            if (!write && m != Mode.HOLDING_ALL) {
                inner.onMessage(message);
                return;
            }
            if (write) {
                // Counted before the mode is read again: a hold that finds no write running can't miss this one.
                writes.incrementAndGet();
                try {
                    if (mode == Mode.SERVING) {
                        inner.onMessage(message);
                        return;
                    }
                } finally {
                    done();
                }
            }
            synchronized (lock) {
                long left;
                while (holding(mode) && (left = deadline - System.nanoTime()) > 0) {
                    try {
                        lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        answer(response, 503, "not_leader", "this node is handing over the leadership; retry");
                        return;
                    }
                }
            }
            if (mode == Mode.HOLDING) {
                // The handover outlived its bound: the write meets the leader gate (503 not_leader once the key is
                // gone), never an endless wait.
                inner.onMessage(message);
                return;
            }
            if (mode == Mode.HOLDING_ALL) {
                answer(response, 503, "not_leader", "this node is handing over the leadership and its database is "
                        + "stopped; retry");
                return;
            }
        }
    }

    private static boolean holding(Mode m) {
        return m == Mode.HOLDING || m == Mode.HOLDING_ALL;
    }

    private void done() {
        if (writes.decrementAndGet() == 0) {
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }

    @Override
    public boolean hold(long drainMillis) {
        mode = Mode.HOLDING;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
        synchronized (lock) {
            long left;
            while (writes.get() > 0 && (left = deadline - System.nanoTime()) > 0) {
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return writes.get() == 0;
    }

    @Override
    public void holdAll() {
        synchronized (lock) {
            if (mode == Mode.HOLDING) {
                mode = Mode.HOLDING_ALL;
            }
        }
    }

    @Override
    public void prepare(String toHost, int toPort) {
        synchronized (lock) {
            try {
                startClient();
            } catch (Exception e) {
                throw new IllegalStateException("the relay to the new Leader could not start: " + e.getMessage(), e);
            }
            host = toHost;
            port = toPort;
        }
    }

    @Override
    public void forward() {
        synchronized (lock) {
            if (client == null) {
                throw new IllegalStateException("the relay was not prepared");
            }
            mode = Mode.FORWARDING;
            lock.notifyAll();
        }
        LOG.info("handover: relaying every API request to the new Leader at {}:{}", host, port);
    }

    @Override
    public void resume() {
        synchronized (lock) {
            mode = Mode.SERVING;
            lock.notifyAll();
        }
        stopClient();
    }

    @Override
    public long lastForwardNanos() {
        return lastForward;
    }

    @Override
    public int forwarding() {
        return relaying.get();
    }

    @Deactivate
    void deactivate() {
        resume();
    }

    private void startClient() throws Exception {
        if (client != null) {
            return;
        }
        // Bodies are relayed as they are (NodeClient decodes nothing).
        HttpClient c = NodeClient.start(tls);
        client = c;
    }

    private void stopClient() {
        HttpClient c;
        synchronized (lock) {
            c = client;
            client = null;
        }
        if (c != null) {
            try {
                c.stop();
            } catch (Exception e) {
                LOG.debug("handover: stopping the relay client: {}", e.getMessage());
            }
        }
    }

    private void relay(HttpServletRequest request, HttpServletResponse response) {
        relaying.incrementAndGet();
        lastForward = System.nanoTime();
        try {
            relayOnce(request, response);
        } finally {
            lastForward = System.nanoTime();
            relaying.decrementAndGet();
        }
    }

    private void relayOnce(HttpServletRequest request, HttpServletResponse response) {
        boolean write = isWrite(request.getMethod(), request.getRequestURI());
        HttpClient c = client;
        byte[] body;
        try {
            body = readBody(request);
        } catch (IOException e) {
            answer(response, 400, "bad_request", "the request body could not be read");
            return;
        }
        if (body == null) {
            answer(response, 413, "payload_too_large", "request body larger than " + MAX_BODY + " bytes");
            return;
        }
        if (c == null) {
            answer(response, 503, "not_leader", "this node is handing over the leadership; retry");
            return;
        }
        String query = request.getQueryString();
        Request out = c.newRequest(host, port).scheme("https").method(request.getMethod())
                .path(request.getRequestURI() + (query == null ? "" : "?" + query))
                .timeout(RELAY_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .tag(proxyTag(clientIps.decide(request)));
        out.getHeaders().clear();
        for (String name : Collections.list(request.getHeaderNames())) {
            if (!NOT_RELAYED.contains(name.toLowerCase(Locale.ROOT))) {
                for (String value : Collections.list(request.getHeaders(name))) {
                    out.header(name, value);
                }
            }
        }
        if (body.length > 0) {
            out.content(new BytesContentProvider(request.getContentType(), body));
        }
        FutureResponseListener listener = new FutureResponseListener(out, MAX_BODY);
        ContentResponse in;
        try {
            out.send(listener);
            in = listener.get(RELAY_TIMEOUT_SECONDS + 5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unknown(response, write);
            return;
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("handover: relaying {} to the new Leader failed: {}", request.getMethod(), e.getMessage());
            unknown(response, write);
            return;
        }
        response.setStatus(in.getStatus());
        for (HttpField f : in.getHeaders()) {
            if (!NOT_RELAYED.contains(f.getName().toLowerCase(Locale.ROOT))) {
                response.addHeader(f.getName(), f.getValue());
            }
        }
        response.setHeader("Connection", "close");
        byte[] content = in.getContent();
        response.setContentLength(content.length);
        try (OutputStream os = response.getOutputStream()) {
            os.write(content);
        } catch (IOException e) {
            // the client went away; the new Leader has answered
        }
    }

    /** A PROXY v2 header naming the client (LOCAL when its address is unknown: the new Leader then sees this node). */
    static ProxyProtocolClientConnectionFactory.V2.Tag proxyTag(String clientIp) {
        if (clientIp == null || !(clientIp.indexOf(':') >= 0 || clientIp.matches("[0-9.]+"))) {
            return ProxyProtocolClientConnectionFactory.V2.Tag.LOCAL;
        }
        return new ProxyProtocolClientConnectionFactory.V2.Tag(clientIp, 0);
    }

    /** @return the body, or null when it is larger than {@link #MAX_BODY} */
    static byte[] readBody(HttpServletRequest request) throws IOException {
        long declared = request.getContentLengthLong();
        if (declared > MAX_BODY) {
            return null;
        }
        try (InputStream in = request.getInputStream()) {
            byte[] b = in.readNBytes(MAX_BODY + 1);
            return b.length > MAX_BODY ? null : b;
        }
    }

    private static void unknown(HttpServletResponse response, boolean write) {
        if (write) {
            answer(response, 503, "outcome_unknown", "the new Leader did not answer this relayed write; it may or "
                    + "may not have been applied: read it back before retrying");
        } else {
            answer(response, 502, "bad_gateway", "the new Leader did not answer this relayed request; retry");
        }
    }

    static void answer(HttpServletResponse response, int status, String code, String message) {
        try {
            response.setStatus(status);
            response.setContentType("application/json");
            response.setHeader("Connection", "close");
            byte[] b = JSON.writeValueAsBytes(io.coffer.api.rest.ApiError.of(code, message));
            response.setContentLength(b.length);
            response.getOutputStream().write(b);
        } catch (IOException e) {
            // the client went away
        }
    }
}
