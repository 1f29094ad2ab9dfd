System.Console.WriteLine(System.Runtime.InteropServices.Marshal.PtrToStringAnsi(LLama.Native.NativeApi.llama_print_system_info()));
