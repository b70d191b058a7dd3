package org.vl2.mactable.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import org.vl2.api.MacEvent;
import org.vl2.api.MacEventListener;

final class RecordingListener implements MacEventListener {

    final List<MacEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void event(MacEvent event) {
        events.add(event);
    }

    List<MacEvent> of(MacEvent.Type type) {
        return events.stream().filter(e -> e.type() == type).collect(Collectors.toList());
    }
}
