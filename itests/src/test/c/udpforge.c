/*
 * udpforge: forged vl2 datagrams for the vl2 end-to-end tests (org.vl2.e2e): what an attacker on the underlay
 * who can spoof the switch's address sends an agent.
 *
 *   udpforge index FROM_IP TO_PORT SECONDS [TYPE]
 *       prints "ready" once listening, then waits (at most SECONDS) for the first sealed vl2 FRAME or KEEPALIVE
 *       (only TYPE, 3 or 4, if given) that FROM_IP sends to UDP TO_PORT on this host and prints "index <receiver
 *       index, 8 hex digits> port <its source port>": what anyone on the path sees in the clear
 *   udpforge send SRC_IP SRC_PORT DST_IP DST_PORT HEX
 *       sends one UDP datagram with payload HEX from SRC_IP:SRC_PORT (spoofed: any address, a port someone else
 *       is bound to) to DST_IP:DST_PORT
 *
 * Raw IPv4 sockets (IP_HDRINCL to send, IPPROTO_UDP to read copies of what arrives): needs CAP_NET_RAW.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
    perror(what);
    exit(2);
}

static in_addr_t address(const char *s) {
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) {
        fprintf(stderr, "not an IPv4 address: %s\n", s);
        exit(2);
    }
    return a.s_addr;
}

static int sniff(const char *from, int to_port, int seconds, int type) {
    int s = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
    if (s < 0) {
        die("socket");
    }
    printf("ready\n");
    fflush(stdout);
    in_addr_t src = address(from);
    time_t end = time(NULL) + seconds;
    unsigned char b[65536];
    while (time(NULL) < end) {
        struct pollfd p = {s, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        ssize_t n = recv(s, b, sizeof b, 0);
        if (n < (ssize_t) sizeof(struct iphdr)) {
            continue;
        }
        struct iphdr *ip = (struct iphdr *) b;
        size_t ihl = ip->ihl * 4u;
        if (ip->saddr != src || n < (ssize_t) (ihl + 8 + 16)) {
            continue;
        }
        struct udphdr *udp = (struct udphdr *) (b + ihl);
        unsigned char *m = b + ihl + 8;
        /* magic 0x56, version 1, FRAME (3) or KEEPALIVE (4), flags SEALED */
        if (ntohs(udp->dest) != to_port || m[0] != 0x56 || m[1] != 1 || (m[2] != 3 && m[2] != 4) || !(m[3] & 1)
                || (type != 0 && m[2] != type)) {
            continue;
        }
        printf("index %02x%02x%02x%02x port %d\n", m[4], m[5], m[6], m[7], ntohs(udp->source));
        return 0;
    }
    fprintf(stderr, "no sealed vl2 message from %s to port %d within %d s\n", from, to_port, seconds);
    return 1;
}

static uint16_t checksum(const void *data, size_t n, uint32_t sum) {
    const unsigned char *p = data;
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t) (p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t) (p[n - 1] << 8);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) ~sum;
}

static int forge(const char *src, int sport, const char *dst, int dport, const char *hex) {
    size_t len = strlen(hex) / 2;
    if (len > 1400 || strlen(hex) % 2) {
        fprintf(stderr, "payload: an even number of hex digits, at most 2800\n");
        return 2;
    }
    unsigned char packet[20 + 8 + 1400];
    memset(packet, 0, sizeof packet);
    unsigned char *payload = packet + 28;
    for (size_t i = 0; i < len; i++) {
        unsigned int v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            fprintf(stderr, "not hex: %s\n", hex);
            return 2;
        }
        payload[i] = (unsigned char) v;
    }
    struct iphdr *ip = (struct iphdr *) packet;
    ip->version = 4;
    ip->ihl = 5;
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->saddr = address(src);
    ip->daddr = address(dst);
    ip->tot_len = htons((uint16_t) (28 + len));
    ip->check = htons(checksum(ip, 20, 0)); /* the kernel fills it in too */
    struct udphdr *udp = (struct udphdr *) (packet + 20);
    udp->source = htons((uint16_t) sport);
    udp->dest = htons((uint16_t) dport);
    udp->len = htons((uint16_t) (8 + len));
    /* pseudo header: addresses, protocol, UDP length */
    unsigned char pseudo[12];
    memcpy(pseudo, &ip->saddr, 4);
    memcpy(pseudo + 4, &ip->daddr, 4);
    pseudo[8] = 0;
    pseudo[9] = IPPROTO_UDP;
    memcpy(pseudo + 10, &udp->len, 2);
    uint32_t sum = 0;
    for (int i = 0; i < 12; i += 2) {
        sum += (uint32_t) (pseudo[i] << 8 | pseudo[i + 1]);
    }
    uint16_t c = checksum(udp, 8 + len, sum);
    udp->check = htons(c == 0 ? 0xffff : c);

    int s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (s < 0) {
        die("socket");
    }
    int on = 1;
    if (setsockopt(s, IPPROTO_IP, IP_HDRINCL, &on, sizeof on) < 0) {
        die("IP_HDRINCL");
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = ip->daddr};
    if (sendto(s, packet, 28 + len, 0, (struct sockaddr *) &to, sizeof to) < 0) {
        die("sendto");
    }
    printf("sent %zu bytes\n", len);
    return 0;
}

int main(int argc, char **argv) {
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "index") == 0) {
        return sniff(argv[2], atoi(argv[3]), atoi(argv[4]), argc == 6 ? atoi(argv[5]) : 0);
    }
    if (argc == 7 && strcmp(argv[1], "send") == 0) {
        return forge(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]), argv[6]);
    }
    fprintf(stderr, "usage: udpforge index FROM_IP TO_PORT SECONDS [TYPE] | udpforge send SRC_IP SRC_PORT DST_IP DST_PORT HEX\n");
    return 2;
}
