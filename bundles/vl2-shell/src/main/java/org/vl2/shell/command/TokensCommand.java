package org.vl2.shell.command;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.vl2.api.ApiToken;
import org.vl2.api.ApiTokenService;
import org.vl2.json.Views;

/** {@code vl2:tokens}: the HTTP API's tokens (names, access, dates; never the tokens themselves). */
@Service
@Command(scope = "vl2", name = "tokens", description = "Lists the HTTP API's tokens (Authorization: Bearer): name,"
        + " access, created, last used. The tokens themselves are not kept (only their SHA-256).")
public class TokensCommand extends ListingCommand {

    @Reference(optional = true) // see Services
    ApiTokenService tokens;

    @Override
    public Object execute() throws Exception {
        Services.require(tokens, Services.NO_API);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) {
        List<ApiToken> all = tokens.tokens();
        if (json) {
            out.println(Views.text(Views.tokens(all)));
            return;
        }
        ShellTable table = new ShellTable().emptyTableText("No API tokens (vl2:token-create NAME)");
        table.column("Name");
        table.column("Access");
        table.column("Created");
        table.column("Last used (since start)");
        for (ApiToken t : all) {
            table.addRow().addContent(t.name(), access(t.admin()), t.created().toString(),
                    t.lastUsed() == null ? Formats.NONE : t.lastUsed().toString());
        }
        table.print(out, !noFormat);
    }

    static String access(boolean admin) {
        return Views.tokenAccess(admin);
    }
}
