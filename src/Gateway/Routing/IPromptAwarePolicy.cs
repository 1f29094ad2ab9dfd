using Yarp.ReverseProxy.Model;

namespace PdServe.Gateway.Routing;

/// <summary>
/// A load-balancing policy that also looks at the call's prompt (where its KV may already be). YARP's
/// <c>ILoadBalancingPolicy</c> sees only the HTTP request, which carries several prompts at once (a batch), so the
/// gateway hands each call's prompt over here.
/// </summary>
public interface IPromptAwarePolicy
{
    DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available, PromptRoute route);
}
