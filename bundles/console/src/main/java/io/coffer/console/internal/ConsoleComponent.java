package io.coffer.console.internal;

import javax.servlet.ServletException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.http.HttpService;
import org.osgi.service.http.NamespaceException;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.NodeIdentity;

/**
 * Publishes the console at {@code /ui} on the HTTP service that serves the API (the TLS connector only: the health
 * port is Coffer's own server and never sees it), next to the API's servlet, so the console's backend can forward
 * API requests to it.
 */
@Component(immediate = true, configurationPid = ConsoleComponent.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ConsoleComponent.Config.class)
public class ConsoleComponent {
    static final String PID = "io.coffer.console";
    static final String ALIAS = "/ui";
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleComponent.class);

    @ObjectClassDefinition(name = "Coffer console", description = "The operator's web console at /ui")
    public @interface Config {
        @AttributeDefinition(description = "A session unused this long ends (minutes)")
        int idle_minutes() default 15;

        @AttributeDefinition(description = "A session ends this long after sign-in, used or not (minutes)")
        int lifetime_minutes() default 480;

        @AttributeDefinition(description = "At most this many sessions live on the node; sign-ins past it get 503")
        int max_sessions() default 1000;

        @AttributeDefinition(description = "The session's access token is renewed once this old (seconds; Conjur "
                + "tokens last 8 minutes)")
        int token_renew_seconds() default 300;
    }

    private final HttpService http;
    private final Sessions sessions;
    private final ConsoleServlet servlet;

    @Activate
    public ConsoleComponent(@Reference HttpService http, @Reference NodeIdentity node, Config config)
            throws ServletException, NamespaceException {
        this.http = http;
        this.sessions = new Sessions(System::currentTimeMillis, 60_000L * config.idle_minutes(),
                60_000L * config.lifetime_minutes(), config.max_sessions());
        this.servlet = new ConsoleServlet(sessions, node, System::currentTimeMillis,
                1000L * config.token_renew_seconds());
        http.registerServlet(ALIAS, servlet, null, null);
        LOG.info("console published at {}", ALIAS);
    }

    @Modified
    void modified(Config config) {
        sessions.configure(60_000L * config.idle_minutes(), 60_000L * config.lifetime_minutes(),
                config.max_sessions());
        servlet.renewAfter(1000L * config.token_renew_seconds());
    }

    @Deactivate
    void deactivate() {
        try {
            http.unregister(ALIAS);
        } catch (IllegalArgumentException e) {
            LOG.warn("console: {} was not registered: {}", ALIAS, e.getMessage());
        }
        sessions.destroyAll();
    }
}
