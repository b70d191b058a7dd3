package org.vl2.shell.command;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchService;

/** Completes port numbers from the switch's current ports. */
@Service
public class PortCompleter extends SwitchCompleter {

    @Override
    List<String> values(SwitchService s) {
        return s.ports().stream().map(PortInfo::id).sorted().map(id -> id.toString()).toList();
    }
}
