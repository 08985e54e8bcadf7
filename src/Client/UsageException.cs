namespace Orleans.Patterns.Client;

/// <summary>The user asked for something that cannot be done as asked; printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The cluster or a silo could not be reached or started; printed as one line, exit code 3.</summary>
internal sealed class ClusterUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A check the command makes on the cluster's behaviour failed; printed, exit code 1.</summary>
internal sealed class InvariantViolatedException(string message) : Exception(message);
