import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { AppHeader } from '@/components/app-header';
import { AppShell } from '@/components/shell/app-shell';
import { PendingApprovalsProvider } from '@/components/shell/pending-approvals';
import { SocketProvider } from '@/components/socket-provider';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Yoke', template: '%s · Yoke' },
  description: 'One control plane over many coding-agent harnesses.',
  applicationName: 'Yoke',
  manifest: '/manifest.webmanifest',
  icons: {
    icon: [{ url: '/icons/icon.svg', type: 'image/svg+xml', sizes: 'any' }],
    apple: '/icons/apple-touch-icon.png',
  },
  appleWebApp: { capable: true, title: 'Yoke', statusBarStyle: 'default' },
};

export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  colorScheme: 'light dark',
  themeColor: [
    { media: '(prefers-color-scheme: light)', color: '#f7f7f8' },
    { media: '(prefers-color-scheme: dark)', color: '#121316' },
  ],
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <SocketProvider>
          <PendingApprovalsProvider>
            <AppShell>
              <AppHeader />
              <main className="main">{children}</main>
            </AppShell>
          </PendingApprovalsProvider>
        </SocketProvider>
      </body>
    </html>
  );
}
