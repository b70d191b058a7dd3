package org.vl2.shell.command;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.CommandException;
import org.vl2.api.ApiTokenService;

/** {@code vl2:token-revoke NAME}: requests with that token fail from now on. */
@Service
@Command(scope = "vl2", name = "token-revoke", description = "Revokes an HTTP API token: requests with it fail"
        + " from now on.")
public class TokenRevokeCommand implements Action {

    @Reference(optional = true) // see Services
    ApiTokenService tokens;

    @Argument(index = 0, name = "name", required = true, description = "The token's name (vl2:tokens lists them)")
    String name;

    @Override
    public Object execute() throws Exception {
        Services.require(tokens, Services.NO_API);
        execute(System.out);
        return null;
    }

    void execute(PrintStream out) throws CommandException {
        boolean revoked;
        try {
            revoked = tokens.revoke(name);
        } catch (IllegalStateException e) {
            throw Args.error(e.getMessage());
        }
        if (!revoked) {
            throw Args.error("no API token named '" + name + "' (vl2:tokens lists them)");
        }
        out.println("API token '" + name + "' revoked");
    }
}
