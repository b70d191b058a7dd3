package org.vl2.shell.command;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.vl2.api.SwitchService;

/** Completes the names of the forwarding policies registered now. */
@Service
public class PolicyCompleter extends SwitchCompleter {

    @Override
    List<String> values(SwitchService s) {
        return s.policies().stream().sorted().toList();
    }
}
