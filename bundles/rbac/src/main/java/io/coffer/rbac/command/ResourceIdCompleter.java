package io.coffer.rbac.command;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

import io.coffer.api.store.Database;

/**
 * Completes account ids (first argument) and then {@code kind:id} of that account's resources (second argument),
 * at most 200 candidates starting with what was typed.
 */
@Service
public class ResourceIdCompleter implements Completer {
    @Reference
    private Database db;

    @Override
    public int complete(Session session, CommandLine line, List<String> candidates) {
        String[] args = line.getArguments();
        int index = line.getCursorArgumentIndex();
        String typed = line.getCursorArgument() == null ? "" : line.getCursorArgument()
                .substring(0, line.getArgumentPosition());
        StringsCompleter out = new StringsCompleter();
        try (Connection c = db.dataSource().getConnection()) {
            if (index <= 1) {
                query(c, "SELECT id FROM accounts WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 200",
                        List.of(prefix(typed)), out);
            } else {
                query(c, "SELECT kind || ':' || identifier FROM resources WHERE account = ? AND kind || ':' || "
                        + "identifier LIKE ? ESCAPE '\\' ORDER BY 1 LIMIT 200", List.of(args[1], prefix(typed)), out);
            }
        } catch (SQLException e) {
            return -1;
        }
        return out.complete(session, line, candidates);
    }

    /** @return a LIKE pattern matching what starts with {@code typed} */
    static String prefix(String typed) {
        return typed.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%";
    }

    private static void query(Connection c, String sql, List<String> args, StringsCompleter out) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setString(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.getStrings().add(rs.getString(1));
                }
            }
        }
    }
}
