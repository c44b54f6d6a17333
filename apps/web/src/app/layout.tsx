import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { AppHeader } from '@/components/app-header';
import { SocketProvider } from '@/components/socket-provider';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Yoke', template: '%s · Yoke' },
  description: 'One control plane over many coding-agent harnesses.',
};

export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  colorScheme: 'light dark',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <SocketProvider>
          <AppHeader />
          <main className="main">{children}</main>
        </SocketProvider>
      </body>
    </html>
  );
}
