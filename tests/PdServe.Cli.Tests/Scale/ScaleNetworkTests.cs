using PdServe.Cli.Benchmarking.Scale;

namespace PdServe.Cli.Tests.Scale;

/// <summary>Names and addresses the rehearsal gives what it makes, and the files its hosts resolve with.</summary>
public sealed class ScaleNetworkTests
{
    [Fact]
    public void Interface_names_fit_linux_limit_for_the_largest_pid_and_name_their_run()
    {
        var plan = new ScaleNetworkPlan(4_194_304, "10.78.0");
        foreach (string name in new[] { plan.BridgeName, plan.VethName(999), plan.PeerName(999) })
        {
            Assert.True(name.Length <= 15, $"{name} is {name.Length} characters");
            Assert.Equal(4_194_304, ScaleNetworkPlan.RunIdOfLink(name));
        }
        Assert.Equal(4_194_304, ScaleNetworkPlan.RunIdOfNamespace(plan.NamespaceName("prefill12")));
        Assert.Null(ScaleNetworkPlan.RunIdOfNamespace("pdserve-link-123"));
        Assert.Null(ScaleNetworkPlan.RunIdOfLink("pdl123r"));
        Assert.Null(ScaleNetworkPlan.RunIdOfLink("eth0"));
    }

    [Fact]
    public void Addresses_are_laid_out_in_the_subnet_and_run_out_after_245_nodes()
    {
        var plan = new ScaleNetworkPlan(1, ScaleNetworkPlan.ParseSubnet("10.79.3.0/24"));
        Assert.Equal(("10.79.3.1", "10.79.3.2", "10.79.3.3"), (plan.BridgeAddress, plan.DnsAddress, plan.GatewayAddress));
        Assert.Equal("10.79.3.10", plan.NodeAddress(0));
        Assert.Equal("10.79.3.254", plan.NodeAddress(244));
        Assert.Throws<PdServe.Cli.Terminal.CliError>(() => plan.NodeAddress(245));
    }

    [Theory]
    [InlineData("10.78.0.0/16")]
    [InlineData("10.78.0.5/24")]
    [InlineData("10.78.0/24")]
    [InlineData("fd00::/24")]
    [InlineData("rehearsal")]
    public void Only_ipv4_slash_24_networks_are_subnets(string text) => Assert.Throws<FormatException>(() => ScaleNetworkPlan.ParseSubnet(text));

    [Fact]
    public void A_host_resolves_as_a_pod_through_the_cluster_dns_alone()
    {
        Assert.Equal(
            "# pdserve bench scale: this host's resolver, as the kubelet writes a pod's\nnameserver 10.78.0.2\n"
            + "search pdserve.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
            ResolverFiles.ResolvConf("10.78.0.2", ["pdserve.svc.cluster.local", "svc.cluster.local", "cluster.local"]));
        Assert.Equal("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.78.0.10\tprefill0\n", ResolverFiles.Hosts("10.78.0.10", "prefill0"));

        string system = "passwd:         files systemd\nhosts:          files mdns4_minimal [NOTFOUND=return] dns resolve\nnetworks:       files\n";
        Assert.Equal("passwd:         files systemd\nhosts:          files dns\nnetworks:       files\n", ResolverFiles.NsSwitch(system));
        Assert.Equal("passwd: files\nhosts:          files dns\n", ResolverFiles.NsSwitch("passwd: files\n"));
    }

    [Fact]
    public void Service_records_list_every_live_address_of_each_name_in_publication_order()
    {
        var records = new ServiceRecords();
        records.Add("pdserve-prefill.pdserve.svc.cluster.local", "10.78.0.10");
        records.Add("pdserve-decode.pdserve.svc.cluster.local", "10.78.0.12");
        records.Add("pdserve-decode.pdserve.svc.cluster.local", "10.78.0.11");
        records.Add("pdserve-decode.pdserve.svc.cluster.local", "10.78.0.11");
        Assert.Equal(
            "# pdserve bench scale: one line per live node of each headless Service\n"
            + "10.78.0.12\tpdserve-decode.pdserve.svc.cluster.local\n10.78.0.11\tpdserve-decode.pdserve.svc.cluster.local\n"
            + "10.78.0.10\tpdserve-prefill.pdserve.svc.cluster.local\n",
            records.HostsFile());

        records.Remove("pdserve-decode.pdserve.svc.cluster.local", "10.78.0.12");
        records.Remove("pdserve-prefill.pdserve.svc.cluster.local", "10.78.0.10");
        Assert.Equal(["10.78.0.11"], records.Addresses("pdserve-decode.pdserve.svc.cluster.local"));
        Assert.Empty(records.Addresses("pdserve-prefill.pdserve.svc.cluster.local"));
        Assert.Equal(["pdserve-decode.pdserve.svc.cluster.local"], records.Names);
    }

    [Fact]
    public void Dnsmasq_listens_on_its_address_alone_answers_the_zone_alone_and_keeps_no_stale_answer()
    {
        var arguments = DnsServer.Arguments("10.78.0.2", "/tmp/x/records", "cluster.local", "/tmp/x/dnsmasq.pid");
        Assert.Contains("--listen-address=10.78.0.2", arguments);
        Assert.Contains("--bind-interfaces", arguments);
        Assert.Contains("--no-resolv", arguments);
        Assert.Contains("--no-hosts", arguments);
        Assert.Contains("--local=/cluster.local/", arguments);
        Assert.Contains("--local-ttl=0", arguments);
        Assert.Contains("--no-negcache", arguments);
        Assert.Contains("--addn-hosts=/tmp/x/records", arguments);
        Assert.Contains("--pid-file=/tmp/x/dnsmasq.pid", arguments);
        Assert.Contains("--conf-file=/dev/null", arguments);
    }

    [Fact]
    public void Leftover_names_are_read_from_ip_output()
    {
        Assert.Equal(["pdserve-scale-12-dns", "other"], ScaleLeftovers.ParseNamespaceList("pdserve-scale-12-dns (id: 3)\nother\n"));
        Assert.Equal(["lo", "psc12br", "psc12v3"], ScaleLeftovers.ParseLinkList(
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue\n"
            + "7: psc12br: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue\n"
            + "8: psc12v3@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master psc12br\n"));
    }
}
