package org.vl2.shell.command;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.CommandException;
import org.vl2.api.ApiTokenService;

/**
 * {@code vl2:token-create NAME}: a new HTTP API token, printed once (only its SHA-256 is kept). Read-only unless
 * {@code --admin}: a monitoring system that scrapes /metrics needs no more.
 */
@Service
@Command(scope = "vl2", name = "token-create", description = "Creates an HTTP API token (Authorization: Bearer"
        + " TOKEN) and prints it: this is the only time it is shown. Read-only unless --admin.")
public class TokenCreateCommand implements Action {

    @Reference(optional = true) // see Services
    ApiTokenService tokens;

    @Argument(index = 0, name = "name", required = true, description = "The token's name: who or what uses it"
            + " (letters, digits, '.', '_', '-')")
    String name;

    @Option(name = "--admin", description = "The token may also change things (the API's write role)")
    boolean admin;

    @Override
    public Object execute() throws Exception {
        Services.require(tokens, Services.NO_API);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) throws CommandException {
        String secret;
        try {
            secret = tokens.create(name, admin);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw Args.error(e.getMessage());
        }
        out.println(secret);
        out.println("API token '" + name + "' (" + TokensCommand.access(admin) + ") created; it is shown only now."
                + " Send it as the header Authorization: Bearer TOKEN (docs/api.md).");
    }
}
