package io.coffer.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.AbstractHandler;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The physical ceiling Coffer is measured against: the Jetty 9.4 under Karaf's HTTP service, alone, answering every
 * request with a fixed 64-byte body, over the node's own keystore and the TLS settings of
 * {@code org.ops4j.pax.web.cfg} (PKCS12, TLSv1.3 and TLSv1.2, Jetty's default cipher suites, no client
 * certificates). Run as its own process: {@code Baseline PORT KEYSTORE PASSWORD ALIAS}.
 */
public final class Baseline {
    /** 64 bytes, about the size of a secret value plus nothing else. */
    static final byte[] BODY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            .getBytes(StandardCharsets.US_ASCII);

    private Baseline() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setKeyStorePath(args[1]);
        tls.setKeyStoreType("PKCS12");
        tls.setKeyStorePassword(args[2]);
        tls.setKeyManagerPassword(args[2]);
        tls.setCertAlias(args[3]);
        tls.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        tls.setNeedClientAuth(false);
        tls.setWantClientAuth(false);

        // Pax Web's defaults: a queued pool of up to 200 threads.
        Server server = new Server(new QueuedThreadPool(200, 8));
        HttpConfiguration http = new HttpConfiguration();
        http.setSecureScheme("https");
        http.setSecurePort(port);
        http.setSendServerVersion(false);
        http.addCustomizer(new SecureRequestCustomizer());
        ServerConnector connector = new ServerConnector(server,
                new SslConnectionFactory(tls, HttpVersion.HTTP_1_1.asString()), new HttpConnectionFactory(http));
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(new AbstractHandler() {
            @Override
            public void handle(String target, Request base, HttpServletRequest request, HttpServletResponse response)
                    throws IOException {
                response.setStatus(200);
                response.setContentType("text/plain");
                response.setContentLength(BODY.length);
                response.getOutputStream().write(BODY);
                base.setHandled(true);
            }
        });
        server.start();
        System.out.println("baseline listening on 127.0.0.1:" + port);
        server.join();
    }
}
