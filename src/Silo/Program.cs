using Orleans.Patterns.Silo.Hosting;

return await SiloHost.RunAsync(args);
