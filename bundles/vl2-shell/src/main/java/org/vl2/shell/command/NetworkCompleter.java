package org.vl2.shell.command;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.api.SwitchService;

/** Completes network ids (16 hex digits) from the switch's networks. */
@Service
public class NetworkCompleter extends SwitchCompleter {

    @Override
    List<String> values(SwitchService s) {
        return s.networks().stream().map(NetworkInfo::id).map(Networks::format).toList();
    }
}
