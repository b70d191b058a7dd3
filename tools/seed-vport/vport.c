/*
 * A VPort in the design of the seed "Build your own ZeroTier" (../shared/seeds/000_*):
 *
 *     Linux Kernel <==[TAP]==> VPort <==[UDP]==> VSwitch
 *
 * One raw Ethernet frame per UDP datagram, no header. vl2 keeps this wire format as its "raw" port mode,
 * and this program is how the tests and the demo prove that a client of that design joins a vl2 switch
 * unchanged. Usage (as the seed): vport SERVER_IP SERVER_PORT [TAP_NAME]; then configure the TAP with ip(8).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int tap_fd, sock_fd;
static struct sockaddr_in server;

static void die(const char *what) {
    fprintf(stderr, "vport: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *tap_to_switch(void *arg) {
    (void) arg;
    char frame[65536];
    for (;;) {
        ssize_t n = read(tap_fd, frame, sizeof frame);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("read tap");
        }
        if (sendto(sock_fd, frame, (size_t) n, 0, (struct sockaddr *) &server, sizeof server) < 0 && errno != ENOBUFS)
            perror("vport: sendto");
    }
    return NULL;
}

static void *switch_to_tap(void *arg) {
    (void) arg;
    char frame[65536];
    for (;;) {
        ssize_t n = recv(sock_fd, frame, sizeof frame, 0);
        if (n < 0) {
            if (errno == EINTR || errno == ECONNREFUSED) continue;
            die("recv");
        }
        if (write(tap_fd, frame, (size_t) n) < 0) perror("vport: write tap");
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SERVER_IP SERVER_PORT [TAP_NAME]\n", argv[0]);
        return 2;
    }
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short) atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
        fprintf(stderr, "vport: not an IPv4 address: %s\n", argv[1]);
        return 2;
    }

    if ((tap_fd = open("/dev/net/tun", O_RDWR)) < 0) die("open /dev/net/tun");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, argc > 3 ? argv[3] : "tapyuan", IFNAMSIZ - 1);
    if (ioctl(tap_fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");

    if ((sock_fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0) die("socket");
    fprintf(stderr, "vport: %s <-> %s:%s\n", ifr.ifr_name, argv[1], argv[2]);

    pthread_t up, down;
    pthread_create(&up, NULL, tap_to_switch, NULL);
    pthread_create(&down, NULL, switch_to_tap, NULL);
    pthread_join(up, NULL);
    return 0;
}
