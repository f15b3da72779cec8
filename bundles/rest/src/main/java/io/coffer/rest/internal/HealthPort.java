package io.coffer.rest.internal;

import java.io.IOException;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Supplier;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.AbstractHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.coffer.api.health.HealthService;
import io.coffer.api.metrics.Metrics;
import io.coffer.api.rest.ApiError;

/**
 * The plain-HTTP health port, for load balancers and probes that don't speak TLS. It is its own tiny Jetty server,
 * not a connector of the API's: nothing but the health routes and {@code /metrics} can ever be reached in cleartext,
 * whatever other bundles register in the HTTP service.
 */
@Component(immediate = true, configurationPid = HealthPort.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = HealthPort.Config.class)
public class HealthPort {
    public static final String PID = "io.coffer.rest";
    private static final Logger LOG = LoggerFactory.getLogger(HealthPort.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    @ObjectClassDefinition(name = "Coffer HTTP", description = "The plain-HTTP health port")
    public @interface Config {
        @AttributeDefinition(description = "Address of the plain-HTTP health port")
        String health_address() default "127.0.0.1";

        @AttributeDefinition(description = "Port of the plain-HTTP health port (0 = any free port)")
        int health_port() default 8444;
    }

    private final Server server;
    /** Served at {@code /metrics} when the metrics bundle runs. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Metrics metrics;

    @Activate
    public HealthPort(@Reference HealthService health, Config config) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(8, 2);
        threads.setName("coffer-health");
        server = new Server(threads);
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost(config.health_address());
        connector.setPort(config.health_port());
        server.addConnector(connector);
        server.setHandler(new Routes(health, () -> metrics));
        server.setStopTimeout(2000);
        try {
            server.start();
        } catch (IOException e) {
            server.stop();
            String why = isBindFailure(e) ? "is already in use by another process" : e.getMessage();
            LOG.error("health port {}:{} could not be opened: {}", config.health_address(), config.health_port(), why);
            throw new IllegalStateException("health port " + config.health_address() + ":" + config.health_port()
                    + " " + why, e);
        }
        LOG.info("health port listening on {}:{}", config.health_address(), localPort());
    }

    private static boolean isBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException) {
                return true;
            }
        }
        return false;
    }

    int localPort() {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    @Deactivate
    void deactivate() throws Exception {
        server.stop();
    }

    static final class Routes extends AbstractHandler {
        private final HealthService health;
        private final Supplier<Metrics> metrics;

        Routes(HealthService health, Supplier<Metrics> metrics) {
            this.health = health;
            this.metrics = metrics;
        }

        @Override
        public void handle(String target, Request base, HttpServletRequest request, HttpServletResponse response)
                throws IOException {
            base.setHandled(true);
            if ("/metrics".equals(request.getRequestURI())) {
                metrics(request, response);
                return;
            }
            Optional<HealthRoutes.Answer> answer = HealthRoutes.answer(request.getRequestURI(), health);
            if (answer.isEmpty()) {
                write(response, 404, ApiError.of("not_found",
                        "this port serves only /health, /health/leader, /health/replica, /health/live and /metrics; "
                                + "the API answers over TLS"));
                return;
            }
            if (!"GET".equals(request.getMethod()) && !"HEAD".equals(request.getMethod())) {
                response.setHeader("Allow", "GET, HEAD");
                write(response, 405, ApiError.of("method_not_allowed", "health routes answer GET and HEAD"));
                return;
            }
            write(response, answer.get().status, answer.get().body);
        }

        private void metrics(HttpServletRequest request, HttpServletResponse response) throws IOException {
            if (!"GET".equals(request.getMethod()) && !"HEAD".equals(request.getMethod())) {
                response.setHeader("Allow", "GET, HEAD");
                write(response, 405, ApiError.of("method_not_allowed", "/metrics answers GET and HEAD"));
                return;
            }
            Metrics m = metrics.get();
            if (m == null) {
                write(response, 503, ApiError.of("metrics_unavailable", "the metrics bundle is not running"));
                return;
            }
            java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream(16384);
            m.write(text);
            response.setStatus(200);
            response.setContentType(Metrics.CONTENT_TYPE);
            response.setHeader("Cache-Control", "no-store");
            response.setContentLength(text.size());
            if (!"HEAD".equals(request.getMethod())) {
                text.writeTo(response.getOutputStream());
            }
        }

        private static void write(HttpServletResponse response, int status, Object body) throws IOException {
            byte[] bytes = JSON.writeValueAsBytes(body);
            response.setStatus(status);
            response.setContentType("application/json");
            response.setCharacterEncoding(StandardCharsets.UTF_8.name());
            response.setHeader("Cache-Control", "no-store");
            response.setContentLength(bytes.length);
            response.getOutputStream().write(bytes);
        }
    }

}
