namespace PdServe.Cli.Cluster;

/// <summary>The two node commands, named as <c>pdserve prefill</c> and <c>pdserve decode</c>.</summary>
public enum NodeRole { Prefill, Decode }
