/*
 * l2probe: sends and counts marked Ethernet frames, for the vl2 end-to-end tests (org.vl2.e2e).
 *
 *   l2probe send IFACE COUNT TAG [--vlan VID] [--to MAC]
 *       sends COUNT frames from IFACE's MAC to MAC (default ff:ff:ff:ff:ff:ff), EtherType 0x88b5 ("local
 *       experimental"), payload "vl2e2e:TAG:<n>", then one more, "vl2e2e:TAG:end", that ends the round; with
 *       --vlan, 802.1Q-tagged with VID
 *   l2probe recv IFACE SECONDS TAG [--vlan VID]
 *       prints "ready" once listening, then counts the frames carrying TAG that arrive on IFACE (incoming only:
 *       not the ones this host sends), untagged ones or, with --vlan, ones tagged VID, until the round's end frame
 *       arrives, SIGTERM comes or SECONDS (a bound, not a window) have passed; then prints "count <n>"
 *
 * The marker makes the counts exact: the kernel's own traffic (ARP, IPv6 neighbour discovery) is ignored, so
 * "every other port received COUNT, the sender 0" is deterministic. So does the end frame: the switch forwards a
 * sender's frames in order, so a receiver that has the end frame has every frame of the round that was sent to it,
 * however slow the machine (a receiver that gets none of the round, the end frame included, is stopped with
 * SIGTERM once the others are done). Tagged frames need no 802.1Q support in
 * the kernel (no VLAN devices): the tag is written into the frame and read back from the packet socket's
 * auxiliary data. Needs CAP_NET_RAW.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE_PROBE 0x88b5
#define ETHERTYPE_VLAN 0x8100

static void die(const char *what) {
    fprintf(stderr, "l2probe: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void usage(void) {
    fprintf(stderr, "usage: l2probe send IFACE COUNT TAG [--vlan VID] [--to MAC]\n"
                    "       l2probe recv IFACE SECONDS TAG [--vlan VID]\n");
    exit(2);
}

static volatile sig_atomic_t stopped;

static void on_term(int sig) {
    (void) sig;
    stopped = 1;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 5 || (strcmp(argv[1], "send") != 0 && strcmp(argv[1], "recv") != 0)) usage();
    int sending = strcmp(argv[1], "send") == 0;
    int vid = -1;
    unsigned char to[6];
    memset(to, 0xff, sizeof to);
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--vlan") == 0 && i + 1 < argc) {
            vid = atoi(argv[++i]);
            if (vid < 0 || vid > 4095) usage();
        } else if (sending && strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &to[0], &to[1], &to[2], &to[3], &to[4], &to[5]) != 6)
                usage();
        } else {
            usage();
        }
    }
    if (strlen(argv[4]) > 32) usage();
    char marker[48];
    int markerLen = snprintf(marker, sizeof marker, "vl2e2e:%s:", argv[4]);

    /* ETH_P_ALL: frames are seen before the kernel drops the VLAN tag of a frame no VLAN device wants */
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) die("socket(AF_PACKET)");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, argv[2], IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) die(argv[2]);
    int ifindex = ifr.ifr_ifindex;
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) die("SIOCGIFHWADDR");
    unsigned char mac[6];
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0) die("bind");

    if (sending) {
        int count = atoi(argv[3]);
        for (int n = 0; n <= count; n++) { /* n == count: the end frame */
            unsigned char frame[128];
            memset(frame, 0, sizeof frame);
            memcpy(frame, to, 6);
            memcpy(frame + 6, mac, 6);
            int off = 12;
            if (vid >= 0) {
                frame[off++] = ETHERTYPE_VLAN >> 8;
                frame[off++] = ETHERTYPE_VLAN & 0xff;
                frame[off++] = (unsigned char) (vid >> 8);
                frame[off++] = (unsigned char) (vid & 0xff);
            }
            frame[off++] = ETHERTYPE_PROBE >> 8;
            frame[off++] = ETHERTYPE_PROBE & 0xff;
            int len = off + (n < count ? snprintf((char *) frame + off, sizeof frame - (size_t) off, "%s%d", marker, n)
                                       : snprintf((char *) frame + off, sizeof frame - (size_t) off, "%send", marker));
            if (len < 60) len = 60;
            struct sockaddr_ll dst;
            memset(&dst, 0, sizeof dst);
            dst.sll_family = AF_PACKET;
            dst.sll_ifindex = ifindex;
            dst.sll_halen = 6;
            memcpy(dst.sll_addr, to, 6);
            if (sendto(fd, frame, (size_t) len, 0, (struct sockaddr *) &dst, sizeof dst) < 0) die("sendto");
            usleep(20000);
        }
        printf("sent %d\n", count);
        return 0;
    }

    struct sigaction term;
    memset(&term, 0, sizeof term);
    term.sa_handler = on_term; /* no SA_RESTART: poll() returns with EINTR */
    sigaction(SIGTERM, &term, NULL);
    int on = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &on, sizeof on) < 0) die("PACKET_AUXDATA");
    double end = now() + atof(argv[3]);
    printf("ready\n");
    fflush(stdout);
    int count = 0;
    while (!stopped) {
        double left = end - now();
        if (left <= 0) break;
        if (left > 0.1) left = 0.1; /* a SIGTERM just before poll() is seen within 100 ms */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int) (left * 1000) + 1);
        if (r < 0 && errno != EINTR) die("poll");
        if (r <= 0) continue;
        unsigned char frame[2048];
        struct sockaddr_ll from;
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
        } control;
        struct iovec iov = {.iov_base = frame, .iov_len = sizeof frame};
        struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = control.buf, .msg_controllen = sizeof control.buf};
        ssize_t n = recvmsg(fd, &msg, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("recvmsg");
        }
        if (from.sll_pkttype == PACKET_OUTGOING || n < 14) continue;
        int tag = -1; /* the frame's VLAN ID, -1 if untagged */
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
                struct tpacket_auxdata aux;
                memcpy(&aux, CMSG_DATA(c), sizeof aux);
                if (aux.tp_status & TP_STATUS_VLAN_VALID) tag = aux.tp_vlan_tci & 0x0fff;
            }
        }
        int off = 12;
        if (((frame[off] << 8) | frame[off + 1]) == ETHERTYPE_VLAN && n >= 18) { /* tag still in the data */
            tag = ((frame[off + 2] << 8) | frame[off + 3]) & 0x0fff;
            off += 4;
        }
        if (((frame[off] << 8) | frame[off + 1]) != ETHERTYPE_PROBE) continue;
        off += 2;
        if (tag != vid) continue;
        if (n >= off + markerLen && memcmp(frame + off, marker, (size_t) markerLen) == 0) {
            if (n >= off + markerLen + 3 && memcmp(frame + off + markerLen, "end", 3) == 0) break;
            count++;
        }
    }
    printf("count %d\n", count);
    return 0;
}
