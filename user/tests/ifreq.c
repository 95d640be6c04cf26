/*
 * Interface ioctls, as ifconfig, ip's fallbacks and udhcpc use them on lo:
 * SIOCGIFINDEX/SIOCGIFNAME, SIOCGIFFLAGS/SIOCSIFFLAGS, the IPv4 address,
 * netmask and broadcast requests, an alias (lo:1) made with SIOCSIFADDR and
 * removed by bringing it down, SIOCGIFCONF (with and without a buffer),
 * SIOCGIFMTU/SIOCSIFMTU, SIOCGIFHWADDR, SIOCGIFTXQLEN, SIOCGIFMAP; their
 * errors (ENODEV, EADDRNOTAVAIL, EINVAL, EFAULT, EPERM for nobody, ENOTTY for
 * an address request on an AF_UNIX socket);
 * then what /proc/net/dev, /proc/net/if_inet6, /proc/net/route and
 * /sys/class/net/lo show. Leaves lo up with 127.0.0.1/8 only.
 * Linux: net/core/dev_ioctl.c, net/ipv4/devinet.c, net/core/net-procfs.c,
 * net/core/net-sysfs.c.
 */
#include "test.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>

static int fd;

static void name_ifr(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

static int set_addr(int cmd, const char *name, const char *addr)
{
	struct ifreq ifr;
	name_ifr(&ifr, name);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	return ioctl(fd, cmd, &ifr);
}

/* The address a get request gives, as text, or "" on error. */
static const char *get_addr(int cmd, const char *name)
{
	static char text[INET_ADDRSTRLEN];
	struct ifreq ifr;
	name_ifr(&ifr, name);
	text[0] = 0;
	if (ioctl(fd, cmd, &ifr) == 0 && ifr.ifr_addr.sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, text, sizeof(text));
	return text;
}

static int get_flags(const char *name)
{
	struct ifreq ifr;
	name_ifr(&ifr, name);
	return ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 ? (unsigned short)ifr.ifr_flags : -1;
}

static void index_and_name(void)
{
	struct ifreq ifr;
	name_ifr(&ifr, "lo");
	CHECK("gifindex_lo", ioctl(fd, SIOCGIFINDEX, &ifr) == 0 && ifr.ifr_ifindex == 1,
	      "index %d (errno %s)", ifr.ifr_ifindex, errno_name(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = 1;
	CHECK("gifname_1", ioctl(fd, SIOCGIFNAME, &ifr) == 0 && strcmp(ifr.ifr_name, "lo") == 0,
	      "name '%s'", ifr.ifr_name);
	ifr.ifr_ifindex = 9999;
	EXPECT_ERRNO("gifname_unknown_enodev", ioctl(fd, SIOCGIFNAME, &ifr), ENODEV);
	name_ifr(&ifr, "nosuch0");
	EXPECT_ERRNO("gifflags_unknown_enodev", ioctl(fd, SIOCGIFFLAGS, &ifr), ENODEV);
	EXPECT_ERRNO("gifflags_bad_pointer_efault", ioctl(fd, SIOCGIFFLAGS, (void *)8), EFAULT);
	int ufd = socket(AF_UNIX, SOCK_DGRAM, 0);
	name_ifr(&ifr, "lo");
	CHECK("gifindex_on_unix_socket", ioctl(ufd, SIOCGIFINDEX, &ifr) == 0 && ifr.ifr_ifindex == 1,
	      "errno %s", errno_name(errno));
	EXPECT_ERRNO("gifaddr_on_unix_socket_enotty", ioctl(ufd, SIOCGIFADDR, &ifr), ENOTTY);
	close(ufd);
}

static void flags_and_addresses(void)
{
	struct ifreq ifr;
	name_ifr(&ifr, "lo");
	ifr.ifr_flags = (short)(get_flags("lo") | IFF_UP);
	EXPECT_OK("sifflags_up", ioctl(fd, SIOCSIFFLAGS, &ifr));
	int flags = get_flags("lo");
	CHECK("gifflags_up_running_loopback",
	      flags >= 0 && (flags & (IFF_UP | IFF_RUNNING | IFF_LOOPBACK)) == (IFF_UP | IFF_RUNNING | IFF_LOOPBACK),
	      "flags %#x", flags);
	CHECK("gifaddr_lo", strcmp(get_addr(SIOCGIFADDR, "lo"), "127.0.0.1") == 0, "got '%s'",
	      get_addr(SIOCGIFADDR, "lo"));
	CHECK("gifnetmask_lo", strcmp(get_addr(SIOCGIFNETMASK, "lo"), "255.0.0.0") == 0, "got '%s'",
	      get_addr(SIOCGIFNETMASK, "lo"));
	CHECK("gifdstaddr_lo", strcmp(get_addr(SIOCGIFDSTADDR, "lo"), "127.0.0.1") == 0, "got '%s'",
	      get_addr(SIOCGIFDSTADDR, "lo"));
	/* Setting the address it has already is a no-op. */
	EXPECT_OK("sifaddr_same", set_addr(SIOCSIFADDR, "lo", "127.0.0.1"));
	EXPECT_ERRNO("sifaddr_inet6_family_einval", ({
			     struct ifreq r;
			     name_ifr(&r, "lo");
			     r.ifr_addr.sa_family = AF_INET6;
			     ioctl(fd, SIOCSIFADDR, &r);
		     }),
		     EINVAL);
	EXPECT_ERRNO("sifaddr_multicast_einval", set_addr(SIOCSIFADDR, "lo:7", "224.0.0.1"), EINVAL);
	EXPECT_ERRNO("sifnetmask_holes_einval", set_addr(SIOCSIFNETMASK, "lo", "255.0.255.0"), EINVAL);
	EXPECT_ERRNO("gifaddr_no_alias_eaddrnotavail", ioctl(fd, SIOCGIFADDR, ({
				     static struct ifreq r;
				     name_ifr(&r, "lo:5");
				     &r;
			     })),
		     EADDRNOTAVAIL);
	EXPECT_ERRNO("gifaddr_unknown_enodev", ioctl(fd, SIOCGIFADDR, ({
				     static struct ifreq r;
				     name_ifr(&r, "nosuch0");
				     &r;
			     })),
		     ENODEV);
}

/* Whether SIOCGIFCONF lists `label` with `addr`. */
static int ifconf_has(const char *label, const char *addr)
{
	struct ifreq reqs[16];
	struct ifconf ifc = { .ifc_len = sizeof(reqs), .ifc_req = reqs };
	if (ioctl(fd, SIOCGIFCONF, &ifc) != 0)
		return 0;
	for (int i = 0; i < ifc.ifc_len / (int)sizeof(struct ifreq); i++) {
		char text[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &((struct sockaddr_in *)&reqs[i].ifr_addr)->sin_addr, text, sizeof(text));
		if (strcmp(reqs[i].ifr_name, label) == 0 && strcmp(text, addr) == 0)
			return 1;
	}
	return 0;
}

static void alias_and_ifconf(void)
{
	struct ifconf ifc = { .ifc_len = 0, .ifc_buf = NULL };
	CHECK("gifconf_null_gives_length",
	      ioctl(fd, SIOCGIFCONF, &ifc) == 0 && ifc.ifc_len >= (int)sizeof(struct ifreq) &&
		      ifc.ifc_len % (int)sizeof(struct ifreq) == 0,
	      "ifc_len %d", ifc.ifc_len);
	CHECK("gifconf_lists_lo", ifconf_has("lo", "127.0.0.1"), "no lo 127.0.0.1");
	EXPECT_OK("sifaddr_alias", set_addr(SIOCSIFADDR, "lo:1", "127.0.0.2"));
	CHECK("gifaddr_alias", strcmp(get_addr(SIOCGIFADDR, "lo:1"), "127.0.0.2") == 0, "got '%s'",
	      get_addr(SIOCGIFADDR, "lo:1"));
	CHECK("gifaddr_lo_unchanged", strcmp(get_addr(SIOCGIFADDR, "lo"), "127.0.0.1") == 0, "got '%s'",
	      get_addr(SIOCGIFADDR, "lo"));
	CHECK("gifconf_lists_alias", ifconf_has("lo:1", "127.0.0.2"), "no lo:1 127.0.0.2");
	EXPECT_OK("sifnetmask_alias", set_addr(SIOCSIFNETMASK, "lo:1", "255.255.0.0"));
	CHECK("gifnetmask_alias", strcmp(get_addr(SIOCGIFNETMASK, "lo:1"), "255.255.0.0") == 0,
	      "got '%s'", get_addr(SIOCGIFNETMASK, "lo:1"));
	EXPECT_OK("sifbrdaddr_alias", set_addr(SIOCSIFBRDADDR, "lo:1", "127.0.255.255"));
	CHECK("gifbrdaddr_alias", strcmp(get_addr(SIOCGIFBRDADDR, "lo:1"), "127.0.255.255") == 0,
	      "got '%s'", get_addr(SIOCGIFBRDADDR, "lo:1"));
	/* ifconfig lo:1 down: the alias's address goes, lo stays up. */
	struct ifreq ifr;
	name_ifr(&ifr, "lo:1");
	ifr.ifr_flags = 0;
	EXPECT_OK("sifflags_alias_down", ioctl(fd, SIOCSIFFLAGS, &ifr));
	EXPECT_ERRNO("alias_gone_eaddrnotavail", ioctl(fd, SIOCGIFADDR, &ifr), EADDRNOTAVAIL);
	CHECK("lo_still_up", get_flags("lo") > 0 && (get_flags("lo") & IFF_UP), "flags %#x", get_flags("lo"));
	CHECK("gifconf_alias_gone", !ifconf_has("lo:1", "127.0.0.2"), "lo:1 still listed");
}

static void device_fields(void)
{
	struct ifreq ifr;
	name_ifr(&ifr, "lo");
	CHECK("gifmtu_lo", ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu == 65536, "mtu %d", ifr.ifr_mtu);
	ifr.ifr_mtu = 1500;
	EXPECT_OK("sifmtu_1500", ioctl(fd, SIOCSIFMTU, &ifr));
	ifr.ifr_mtu = 0;
	CHECK("gifmtu_1500", ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu == 1500, "mtu %d", ifr.ifr_mtu);
	ifr.ifr_mtu = -1;
	EXPECT_ERRNO("sifmtu_negative_einval", ioctl(fd, SIOCSIFMTU, &ifr), EINVAL);
	ifr.ifr_mtu = 65536;
	EXPECT_OK("sifmtu_restore", ioctl(fd, SIOCSIFMTU, &ifr));
	name_ifr(&ifr, "lo");
	memset(ifr.ifr_hwaddr.sa_data, 0x55, sizeof(ifr.ifr_hwaddr.sa_data));
	int r = ioctl(fd, SIOCGIFHWADDR, &ifr);
	static const char zero[6];
	CHECK("gifhwaddr_loopback", r == 0 && ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK &&
					   memcmp(ifr.ifr_hwaddr.sa_data, zero, 6) == 0,
	      "family %d", ifr.ifr_hwaddr.sa_family);
	name_ifr(&ifr, "lo");
	CHECK("giftxqlen_lo", ioctl(fd, SIOCGIFTXQLEN, &ifr) == 0 && ifr.ifr_qlen == 1000, "qlen %d", ifr.ifr_qlen);
	name_ifr(&ifr, "lo");
	memset(&ifr.ifr_map, 0x55, sizeof(ifr.ifr_map));
	CHECK("gifmap_lo", ioctl(fd, SIOCGIFMAP, &ifr) == 0 && ifr.ifr_map.irq == 0 && ifr.ifr_map.base_addr == 0,
	      "irq %d", ifr.ifr_map.irq);
	name_ifr(&ifr, "lo");
	CHECK("gifmetric_lo", ioctl(fd, SIOCGIFMETRIC, &ifr) == 0 && ifr.ifr_metric == 0, "metric %d",
	      ifr.ifr_metric);
}

/* The set requests are CAP_NET_ADMIN's; the get requests anyone's. */
static void nobody(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(10);
		struct ifreq ifr;
		name_ifr(&ifr, "lo");
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
			_exit(11);
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) != -1 || errno != EPERM)
			_exit(12);
		if (ioctl(fd, SIOCSIFMTU, &ifr) != -1 || errno != EPERM)
			_exit(13);
		if (set_addr(SIOCSIFADDR, "lo:3", "127.0.0.3") != -1 || errno != EPERM)
			_exit(14);
		_exit(0);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK("nobody_gets_but_cannot_set", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x",
	      status);
}

static const char *slurp_text(const char *path)
{
	static char text[8192];
	ssize_t n = slurp(path, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = 0;
	return text;
}

static void proc_net(void)
{
	const char *dev = slurp_text("proc/net/dev");
	CHECK("proc_net_dev_header",
	      strncmp(dev,
		      "Inter-|   Receive                                                |  Transmit\n"
		      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
		      "drop fifo colls carrier compressed\n",
		      200) == 0,
	      "header '%.60s'", dev);
	CHECK("proc_net_dev_lo", strstr(dev, "\n    lo: "), "no lo row");
	const char *inet6 = slurp_text("proc/net/if_inet6");
	CHECK("proc_net_if_inet6_lo", strstr(inet6, "00000000000000000000000000000001 01 80 10 80       lo\n"),
	      "got '%s'", inet6);
	const char *route = slurp_text("proc/net/route");
	CHECK("proc_net_route_header", strncmp(route, "Iface\tDestination\tGateway \tFlags\t", 30) == 0 &&
					       strlen(route) >= 128 && route[127] == '\n',
	      "got '%.60s'", route);
}

static void sys_class_net(void)
{
	CHECK("sys_lo_ifindex", strcmp(slurp_text("sys/class/net/lo/ifindex"), "1\n") == 0, "got '%s'",
	      slurp_text("sys/class/net/lo/ifindex"));
	CHECK("sys_lo_type", strcmp(slurp_text("sys/class/net/lo/type"), "772\n") == 0, "got '%s'",
	      slurp_text("sys/class/net/lo/type"));
	CHECK("sys_lo_flags", strcmp(slurp_text("sys/class/net/lo/flags"), "0x9\n") == 0, "got '%s'",
	      slurp_text("sys/class/net/lo/flags"));
	CHECK("sys_lo_mtu", strcmp(slurp_text("sys/class/net/lo/mtu"), "65536\n") == 0, "got '%s'",
	      slurp_text("sys/class/net/lo/mtu"));
	CHECK("sys_lo_address", strcmp(slurp_text("sys/class/net/lo/address"), "00:00:00:00:00:00\n") == 0,
	      "got '%s'", slurp_text("sys/class/net/lo/address"));
	CHECK("sys_lo_operstate", strcmp(slurp_text("sys/class/net/lo/operstate"), "unknown\n") == 0,
	      "got '%s'", slurp_text("sys/class/net/lo/operstate"));
	CHECK("sys_lo_carrier", strcmp(slurp_text("sys/class/net/lo/carrier"), "1\n") == 0, "got '%s'",
	      slurp_text("sys/class/net/lo/carrier"));
	CHECK("sys_lo_tx_queue_len", strcmp(slurp_text("sys/class/net/lo/tx_queue_len"), "1000\n") == 0,
	      "got '%s'", slurp_text("sys/class/net/lo/tx_queue_len"));
	CHECK("sys_lo_uevent", strcmp(slurp_text("sys/class/net/lo/uevent"), "INTERFACE=lo\nIFINDEX=1\n") == 0,
	      "got '%s'", slurp_text("sys/class/net/lo/uevent"));
	const char *rx = slurp_text("sys/class/net/lo/statistics/rx_packets");
	CHECK("sys_lo_statistics", rx[0] >= '0' && rx[0] <= '9', "got '%s'", rx);
	char link[256] = "";
	ssize_t n = readlink("sys/class/net/lo", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	CHECK("sys_class_net_lo_link", strcmp(link, "../../devices/virtual/net/lo") == 0, "got '%s'", link);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	index_and_name();
	flags_and_addresses();
	alias_and_ifconf();
	device_fields();
	nobody();
	mkdir("sys", 0755);
	mkdir("proc", 0555);
	REQUIRE(mount("proc", "proc", "proc", 0, NULL) == 0);
	proc_net();
	umount("proc");
	REQUIRE(mount("sysfs", "sys", "sysfs", 0, NULL) == 0);
	sys_class_net();
	umount("sys");
	return test_done();
}
