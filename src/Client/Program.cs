using Orleans.Patterns.Client;
using Spectre.Console;

return await ClientApp.RunAsync(args, AnsiConsole.Console, Console.Error);
